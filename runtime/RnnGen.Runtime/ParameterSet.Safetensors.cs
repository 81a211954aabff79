using System.IO;

namespace RnnGen;

public sealed partial class ParameterSet
{
    /// <summary>
    /// Loads every parameter from the safetensors file at <paramref name="path"/>, by PyTorch state_dict key
    /// <c>prefix + name</c>: the file <c>safetensors.torch.save_file(model.state_dict(), path)</c> writes. Strict
    /// and all-or-nothing, like <c>load_state_dict(strict=True)</c>; see <see cref="SafetensorsFile.LoadInto"/>.
    /// For a file holding several modules, read it once with <see cref="SafetensorsFile.Read"/> instead.
    /// </summary>
    /// <param name="prefix">The module's attribute path in the saved model with its dot (<c>"lstm."</c> for
    /// <c>model.lstm</c>); empty for a state_dict saved from the module itself.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors, or keys are missing, unexpected,
    /// mis-shaped or of a dtype RnnGen does not load (it loads F32, F16, BF16 and F64); the message says which.</exception>
    public void LoadSafetensors(string path, string prefix = "") => SafetensorsFile.Read(path).LoadInto(this, prefix);

    /// <summary>
    /// Saves every parameter as F32 under <c>prefix + name</c> into a safetensors file laid out as Python's
    /// <c>save_file</c> lays it out, for <c>model.load_state_dict(safetensors.torch.load_file(path))</c>.
    /// </summary>
    public void SaveSafetensors(string path, string prefix = "") => SafetensorsFile.Write(path, [(prefix, this)]);
}
