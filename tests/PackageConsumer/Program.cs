using System;
using PackageConsumer;

// Prints the kernel path, then one line per module: its name and its outputs (round-trip formatted floats).
Console.WriteLine($"path {RnnGen.Simd.Path}");
foreach ((string name, float[] values) in Workload.Run())
    Console.WriteLine($"{name} {string.Join(' ', Array.ConvertAll(values, v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}");
