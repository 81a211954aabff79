using System.Collections.Generic;
using System.IO;
using System.Text;

namespace RnnGen.IO;

/// <summary>
/// The exception for a well-formed file whose tensors do not fit a module, what PyTorch's
/// <c>load_state_dict(strict=True)</c> reports as a <c>RuntimeError</c>: one <see cref="InvalidDataException"/>
/// (the type every refusal of a weights file throws; it is sealed, so there is no subtype) whose message lists
/// every missing, unexpected, mis-shaped and unloadable key in PyTorch's words, and whose
/// <see cref="System.Exception.Data"/> holds the same keys as string arrays under <see cref="MissingKeys"/>,
/// <see cref="UnexpectedKeys"/>, <see cref="SizeMismatchKeys"/> and <see cref="UnsupportedDtypeKeys"/>.
/// </summary>
internal static class StateDictErrors
{
    public const string MissingKeys = "MissingKeys";
    public const string UnexpectedKeys = "UnexpectedKeys";
    public const string SizeMismatchKeys = "SizeMismatchKeys";
    public const string UnsupportedDtypeKeys = "UnsupportedDtypeKeys";

    public static InvalidDataException Mismatch(string source, string prefix, List<string> missing, List<string> unexpected,
        List<(string Key, string FileShape, string ModelShape)> sizeMismatches, List<(string Key, string Dtype)> unsupported)
    {
        var text = new StringBuilder($"Error(s) in loading state_dict from '{source}'");
        if (prefix.Length > 0)
            text.Append($" with prefix \"{prefix}\"");
        text.Append(':');
        if (missing.Count > 0)
            text.Append("\n\tMissing key(s) in state_dict: ").Append(Quoted(missing)).Append(". ");
        if (unexpected.Count > 0)
            text.Append("\n\tUnexpected key(s) in state_dict: ").Append(Quoted(unexpected)).Append(". ");
        foreach (var (key, fileShape, modelShape) in sizeMismatches)
            text.Append($"\n\tsize mismatch for {key}: copying a param with shape {fileShape} from checkpoint, the shape in current model is {modelShape}.");
        foreach (var (key, dtype) in unsupported)
            text.Append($"\n\tunsupported dtype for {key}: {dtype} (RnnGen loads {SafetensorsDtypes.LoadableList} into float32).");

        var exception = new InvalidDataException(text.ToString());
        exception.Data[MissingKeys] = missing.ToArray();
        exception.Data[UnexpectedKeys] = unexpected.ToArray();
        exception.Data[SizeMismatchKeys] = sizeMismatches.ConvertAll(m => m.Key).ToArray();
        exception.Data[UnsupportedDtypeKeys] = unsupported.ConvertAll(u => u.Key).ToArray();
        return exception;
    }

    private static string Quoted(List<string> keys) => string.Join(", ", keys.ConvertAll(k => $"\"{k}\""));
}
