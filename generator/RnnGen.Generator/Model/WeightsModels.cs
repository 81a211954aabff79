namespace RnnGen.Generator.Model;

/// <summary>One tensor of a weights file: its key, dtype name, shape, and where its bytes lie in <see cref="WeightsFile.Bytes"/>.</summary>
internal sealed record TensorInfo(string Key, string Dtype, EquatableArray<ulong> Shape, int Offset, int Length);

/// <summary>
/// A <c>*.safetensors</c> additional file as read and validated: its path, the reason it is refused (null when valid), its
/// tensors and its bytes. Equal by content, so an unchanged file keeps every module that bakes it cached.
/// </summary>
internal sealed record WeightsFile(string Path, string? Error, EquatableArray<TensorInfo> Tensors, EquatableArray<byte> Bytes);

/// <summary>
/// A module with <c>[Weights]</c> after its file was matched and checked: the spec to emit and the weights to bake (little-endian
/// float32 in <c>named_parameters()</c> order, the exact contents of its ParameterSet), or null and the diagnostics saying why not.
/// </summary>
internal sealed record BakeResult(NetworkSpec? Spec, EquatableArray<byte> Weights, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>What the weights file of a baked module is emitted from.</summary>
internal sealed record BakedModule(NetworkSpec Spec, EquatableArray<byte> Weights);
