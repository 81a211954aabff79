using System;
using System.IO;
using System.Runtime.InteropServices;
using RnnGen;
using SharpFuzz;

namespace RnnGen.Fuzz;

/// <summary>
/// The SharpFuzz target for the safetensors reader: any input must either load or throw
/// <see cref="InvalidDataException"/>, and a refused load must leave the parameters bit for bit as they were.
/// Anything else (another exception, changed parameters) escapes as a crash for the fuzzer to keep.
/// </summary>
public static class Program
{
    // Targets a mutated file can fit: the keys of the seed corpus (see Corpus/ and README.md).
    private static readonly (ParameterSet Parameters, string Prefix)[] s_targets =
    {
        (new Dynamic.Lstm(2, 3, seed: 1).Parameters, "lstm."),
        (new Dynamic.Linear(3, 1, seed: 2).Parameters, "head."),
        (new Dynamic.Linear(1, 1, seed: 3).Parameters, ""),
    };

    public static int Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "--libfuzzer":
                Fuzzer.LibFuzzer.Run(Target);
                return 0;
            case "--afl":
                Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    Target(copy.ToArray());
                });
                return 0;
            case "--replay" when args.Length > 1:
                // Runs the target once per file (a corpus, or crashes a campaign found), without instrumentation.
                int count = 0;
                for (int i = 1; i < args.Length; i++)
                {
                    string[] files = Directory.Exists(args[i]) ? Directory.GetFiles(args[i]) : new[] { args[i] };
                    foreach (string file in files)
                    {
                        Target(File.ReadAllBytes(file));
                        count++;
                    }
                }
                Console.WriteLine($"{count} inputs, no crash");
                return 0;
            default:
                Console.Error.WriteLine("usage: RnnGen.Fuzz --libfuzzer | --afl | --replay <file-or-directory>...");
                return 2;
        }
    }

    private static void Target(ReadOnlySpan<byte> bytes)
    {
        SafetensorsFile file;
        try
        {
            file = SafetensorsFile.Parse(bytes, "fuzz");
        }
        catch (InvalidDataException)
        {
            return;
        }
        foreach (string key in file.Keys)
        {
            _ = file.GetShape(key).Length;
            if (file.GetDtype(key) is "F32" or "F16" or "BF16" or "F64")
                _ = file.GetFloats(key);
        }
        foreach (var (parameters, prefix) in s_targets)
        {
            float[] before = parameters.AsReadOnlySpan().ToArray();
            long version = parameters.Version;
            try
            {
                file.LoadInto(parameters, prefix);
            }
            catch (InvalidDataException)
            {
                bool same = MemoryMarshal.Cast<float, uint>(parameters.AsReadOnlySpan()).SequenceEqual(MemoryMarshal.Cast<float, uint>(before.AsSpan()));
                if (!same || parameters.Version != version)
                    throw new InvalidOperationException($"A refused load changed the parameters (prefix \"{prefix}\").");
            }
        }
    }
}
