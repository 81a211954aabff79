using System;

namespace RnnGen;

/// <summary>
/// Bakes trained weights into a module at compile time: <c>new Amp()</c> then starts with the parameters of a
/// safetensors file (PyTorch's <c>save_file(model.state_dict(), ...)</c>), with no file I/O at run time (it works
/// under NativeAOT and in single-file apps). The generator checks the file against the declared shape as
/// <c>load_state_dict(strict=True)</c> does, and a file that does not fit is a compile error (RNNG0014 to RNNG0019).
/// </summary>
/// <remarks>
/// <para>
/// The file must be one of the project's <c>AdditionalFiles</c> (<c>&lt;AdditionalFiles Include="amp.safetensors" /&gt;</c>).
/// <see cref="File"/> names it by its path relative to the project directory, or by its file name (or a path suffix)
/// when that matches exactly one of the additional files.
/// </para>
/// <para>
/// A module with weights has a parameterless constructor only (dropout, if any, draws a random seed; reseed it with
/// <c>SeedDropout</c>); its <c>Parameters</c> stay writable, so it can be fine-tuned.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// [Lstm(1, 32, NumLayers = 2), Weights("amp.safetensors", Prefix = "lstm.")]
/// public partial class Amp;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WeightsAttribute : Attribute
{
    /// <summary>Bakes the weights of <paramref name="file"/>, an <c>AdditionalFiles</c> item in safetensors format.</summary>
    /// <param name="file">The path relative to the project directory, or the file name.</param>
    public WeightsAttribute(string file) => File = file;

    /// <summary>The safetensors file, relative to the project directory or by name.</summary>
    public string File { get; }

    /// <summary>
    /// The module's attribute path in the saved model, with its dot: <c>"lstm."</c> for <c>model.lstm</c>; empty (the
    /// default) for a state_dict saved from the module itself. As in <c>SafetensorsFile.LoadInto</c>, every key under the
    /// prefix must be a parameter of the module.
    /// </summary>
    public string Prefix { get; set; } = "";
}
