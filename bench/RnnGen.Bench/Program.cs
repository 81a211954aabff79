using System;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RnnGen.Bench;

// In-process: the benchmarks run in this process, whose output folder holds TorchSharp's native library as
// the build patched it (a separately generated benchmark project would not be patched).
if (args.Length > 0 && args[0] == "bf16") { Bf16Study.Error(); return; }
if (args.Length > 0 && args[0] == "probe") { Probe.Run(args.Length > 1 ? args[1] : null); return; }
if (args.Length > 0 && args[0] == "compare")
{
    Compare.Run();
    return;
}
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(MemoryDiagnoser.Default);
BenchmarkSwitcher.FromAssembly(typeof(CaseBase).Assembly).Run(args, config);
