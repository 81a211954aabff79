using System;
using System.Collections.Generic;
using System.IO;
using RnnGen.IO;

namespace RnnGen;

/// <summary>
/// A safetensors file (the format of <c>safetensors.torch.save_file(model.state_dict(), path)</c>), read and
/// validated once, from which several modules load their parameters by their PyTorch state_dict keys: for a
/// model with <c>self.lstm</c> and <c>self.head</c>, <c>LoadInto(lstm.Parameters, "lstm.")</c> and
/// <c>LoadInto(head.Parameters, "head.")</c>. <see cref="Write"/> saves several parameter sets into one file.
/// </summary>
/// <remarks>
/// <para>
/// A file that is not valid safetensors throws <see cref="InvalidDataException"/> naming the file and the reason:
/// what the reference reader (huggingface/safetensors) refuses is refused here (header length above 100,000,000
/// or past the end, a header that is not a UTF-8 JSON object, a tensor entry with a missing or mistyped field or
/// an unknown dtype, offsets that do not tile the data buffer, a byte size other than elements × dtype size,
/// arithmetic overflow, trailing bytes), and a key that appears twice. Reading never allocates more than the
/// file's size from what the header declares.
/// </para>
/// <para>
/// Loading is strict and all-or-nothing (see <see cref="LoadInto"/>). F32 loads as is; F16, BF16 and F64 convert
/// to float32 as <c>tensor.float()</c> does (F16 and BF16 exactly, F64 rounded to nearest, ties to even); other
/// dtypes are refused for parameters but may be present under other keys. Files are written as F32.
/// </para>
/// </remarks>
public sealed class SafetensorsFile
{
    private const string MemorySource = "(memory)";

    private readonly byte[] _file;
    private readonly int _dataStart;
    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private readonly string[] _keys;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private SafetensorsFile(byte[] file, string source)
    {
        SafetensorsLayout layout = SafetensorsHeader.Parse(file, source);
        _file = file;
        _dataStart = layout.DataStart;
        Source = source;
        Metadata = layout.Metadata;
        _entries = new Dictionary<string, SafetensorsEntry>(layout.Entries.Count, StringComparer.Ordinal);
        foreach (SafetensorsEntry e in layout.Entries)
            _entries.Add(e.Key, e);
        _keys = new string[layout.Entries.Count];
        _entries.Keys.CopyTo(_keys, 0);
        Array.Sort(_keys, StringComparer.Ordinal);
    }

    /// <summary>Reads and validates the whole file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors; the message names the file and the reason.</exception>
    public static SafetensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new SafetensorsFile(File.ReadAllBytes(path), path);
    }

    /// <summary>Validates the bytes of a safetensors file held in memory (copied; the span may change afterwards).</summary>
    /// <param name="source">A name for messages (for example where the bytes came from); "(memory)" by default.</param>
    /// <exception cref="InvalidDataException">The bytes are not valid safetensors.</exception>
    public static SafetensorsFile Parse(ReadOnlySpan<byte> bytes, string? source = null) =>
        new(bytes.ToArray(), source ?? MemorySource);

    /// <summary>The path the file was read from, or the name given to <see cref="Parse"/>.</summary>
    public string Source { get; }

    /// <summary>The header's <c>__metadata__</c> (string to string); empty when it has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor key, in ordinal order (as Python's <c>safe_open(...).keys()</c> lists them).</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>Whether the file has a tensor with this key.</summary>
    public bool ContainsKey(string key) => key is not null && _entries.ContainsKey(key);

    /// <summary>The dtype of a tensor as the file names it: <c>"F32"</c>, <c>"BF16"</c>, <c>"I64"</c>, ...</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that key.</exception>
    public string GetDtype(string key) => SafetensorsDtypes.Name(Entry(key).Dtype);

    /// <summary>The shape of a tensor as the file declares it (empty for a scalar).</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that key.</exception>
    public ReadOnlySpan<ulong> GetShape(string key) => Entry(key).Shape;

    /// <summary>The values of one tensor as float32, row-major, converted as <see cref="LoadInto"/> converts them.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that key.</exception>
    /// <exception cref="InvalidDataException">Its dtype is not F32, F16, BF16 or F64.</exception>
    public float[] GetFloats(string key)
    {
        SafetensorsEntry e = Entry(key);
        if (!SafetensorsDtypes.IsLoadable(e.Dtype))
            throw new InvalidDataException($"'{Source}': tensor \"{key}\" has dtype {e.Dtype}; RnnGen reads {SafetensorsDtypes.LoadableList} as float32.");
        // The header was validated against the file: the tensor's bytes lie inside it, so this size is bounded by the file's.
        var values = new float[(e.End - e.Begin) / (ulong)(SafetensorsDtypes.BitSize(e.Dtype) / 8)];
        SafetensorsDtypes.ConvertToSingle(e.Dtype, Bytes(e), values);
        return values;
    }

    /// <summary>
    /// Keys that no successful <see cref="LoadInto"/> has consumed yet: after loading every module of a model,
    /// what remains is what the model does not use (buffers such as <c>num_batches_tracked</c>, another head, or
    /// a misspelt prefix).
    /// </summary>
    public IReadOnlyList<string> UnusedKeys
    {
        get
        {
            var unused = new List<string>();
            foreach (string key in _keys)
            {
                if (!_used.Contains(key))
                    unused.Add(key);
            }
            return unused;
        }
    }

    /// <summary>
    /// Loads every parameter of <paramref name="parameters"/> from the tensor <c>prefix + name</c>, strictly, as
    /// <c>load_state_dict(strict=True)</c>: every parameter must be present with exactly its PyTorch shape and a
    /// loadable dtype, and every key that starts with <paramref name="prefix"/> must be a parameter (keys outside
    /// the prefix are left for other modules). All or nothing: the parameters change, and count as changed, only
    /// when everything fits.
    /// </summary>
    /// <param name="prefix">The module's attribute path in the saved model, with its dot: <c>"lstm."</c> for
    /// <c>model.lstm</c>; empty for a state_dict saved from the module itself.</param>
    /// <exception cref="InvalidDataException">Keys are missing, unexpected, mis-shaped or of an unloadable dtype. The
    /// message lists them all in PyTorch's words (<c>Missing key(s) in state_dict: ...</c>, <c>Unexpected key(s) in
    /// state_dict: ...</c>, <c>size mismatch for ...</c>), and <see cref="Exception.Data"/> holds them as string arrays
    /// under "MissingKeys", "UnexpectedKeys", "SizeMismatchKeys" and "UnsupportedDtypeKeys". It is the same
    /// exception type as for a damaged file, so one catch handles any file that cannot be loaded.</exception>
    public void LoadInto(ParameterSet parameters, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(prefix);
        var missing = new List<string>();
        var unexpected = new List<string>();
        var sizeMismatches = new List<(string Key, string FileShape, string ModelShape)>();
        var unsupported = new List<(string Key, string Dtype)>();
        var found = new SafetensorsEntry[parameters.Count];
        for (int i = 0; i < parameters.Count; i++)
        {
            string name = parameters.Names[i];
            string key = prefix + name;
            if (!_entries.TryGetValue(key, out SafetensorsEntry? e))
            {
                missing.Add(key);
                continue;
            }
            ReadOnlySpan<int> shape = parameters.GetShape(name);
            if (!SameShape(e.Shape, shape))
                sizeMismatches.Add((key, $"[{string.Join(", ", e.Shape)}]", $"[{string.Join(", ", shape.ToArray())}]"));
            else if (!SafetensorsDtypes.IsLoadable(e.Dtype))
                unsupported.Add((key, SafetensorsDtypes.Name(e.Dtype)));
            found[i] = e;
        }
        foreach (string key in _keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && !parameters.Contains(key[prefix.Length..]))
                unexpected.Add(key);
        }
        if (missing.Count + unexpected.Count + sizeMismatches.Count + unsupported.Count > 0)
            throw StateDictErrors.Mismatch(Source, prefix, missing, unexpected, sizeMismatches, unsupported);

        // Convert everything into a temporary first, so that nothing is written unless everything converts.
        var values = new float[parameters.TotalLength];
        for (int i = 0; i < found.Length; i++)
        {
            int length = parameters.GetReadOnly(parameters.Names[i]).Length;
            SafetensorsDtypes.ConvertToSingle(found[i].Dtype, Bytes(found[i]), values.AsSpan(parameters.OffsetOf(i), length));
        }
        values.CopyTo(parameters.AsSpan());
        foreach (SafetensorsEntry e in found)
            _used.Add(e.Key);
    }

    /// <summary>
    /// Writes several parameter sets into one safetensors file as F32, each parameter under <c>prefix + name</c>,
    /// laid out byte for byte as Python's <c>safetensors.torch.save_file</c> lays out the same tensors (sorted by
    /// key, compact header padded with spaces to a multiple of 8 bytes), with <paramref name="metadata"/> as
    /// <c>__metadata__</c> (its entries sorted by key; none when null).
    /// </summary>
    /// <exception cref="ArgumentException">Two parameters end up with the same key.</exception>
    public static void Write(string path, IEnumerable<(string Prefix, ParameterSet Parameters)> sets, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Serialize(sets, metadata);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>The bytes <see cref="Write"/> writes.</summary>
    /// <exception cref="ArgumentException">Two parameters end up with the same key.</exception>
    public static byte[] Serialize(IEnumerable<(string Prefix, ParameterSet Parameters)> sets, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var tensors = new List<SafetensorsWriter.Tensor>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (prefix, parameters) in sets)
        {
            ArgumentNullException.ThrowIfNull(parameters, nameof(sets));
            foreach (string name in parameters.Names)
            {
                string key = (prefix ?? "") + name;
                if (!keys.Add(key))
                    throw new ArgumentException($"Two parameters would be saved under the key \"{key}\"; give each parameter set its own prefix.", nameof(sets));
                tensors.Add(new SafetensorsWriter.Tensor(key, parameters, name));
            }
        }
        return SafetensorsWriter.Serialize(tensors, metadata);
    }

    private SafetensorsEntry Entry(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_entries.TryGetValue(key, out SafetensorsEntry? e))
            return e;
        throw new KeyNotFoundException($"'{Source}' has no tensor \"{key}\".");
    }

    private ReadOnlySpan<byte> Bytes(SafetensorsEntry e) =>
        _file.AsSpan(_dataStart + (int)e.Begin, (int)(e.End - e.Begin));

    private static bool SameShape(ulong[] fileShape, ReadOnlySpan<int> shape)
    {
        if (fileShape.Length != shape.Length)
            return false;
        for (int d = 0; d < shape.Length; d++)
        {
            if (fileShape[d] != (ulong)shape[d])
                return false;
        }
        return true;
    }
}
