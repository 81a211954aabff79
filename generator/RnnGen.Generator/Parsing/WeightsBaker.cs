using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Parsing;

/// <summary>
/// Reads <c>*.safetensors</c> additional files, matches a module's <c>[Weights]</c> to one of them, checks it as
/// <c>load_state_dict(strict=True)</c> would against the declared shape, and converts its parameters to the float32 bytes
/// the module starts with.
/// </summary>
internal static class WeightsBaker
{
    public const string Extension = ".safetensors";

    /// <summary>Above this many bytes of baked float32, RNNG0019 warns (16 MB: an LSTM(1000, 1000) with two layers is 64 MB).</summary>
    public const int LargeBytes = 16 * 1024 * 1024;

    public static bool IsWeightsFile(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads and validates one additional file. <c>AdditionalText</c> only offers text (<c>GetText()</c> decodes the file, and
    /// the compiler reports CS2015 "is a binary file instead of a text file" for a file with NUL bytes, which every
    /// safetensors file has), and Roslyn has no binary API for additional files (dotnet/roslyn#47292, open). The compiler
    /// does not read an additional file until someone calls GetText (dotnet/roslyn#59209 made that so, for generators that
    /// read binary files by <c>AdditionalText.Path</c>), so the generator never calls GetText and reads the bytes at that
    /// path itself; that is file I/O, which RS1035 forbids in general, and is suppressed here only. The path comes from
    /// the compiler's inputs and the file is an input of the build (MSBuild rebuilds when it changes); in the IDE a
    /// changed file is seen when the IDE hands the generator a new AdditionalText for it.
    /// </summary>
    public static WeightsFile Read(string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
#pragma warning disable RS1035 // The one sanctioned-by-necessity read: binary AdditionalFiles have no Roslyn API (see above).
            bytes = File.ReadAllBytes(path);
#pragma warning restore RS1035
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return new WeightsFile(path, $"the file cannot be read ({e.Message})", EquatableArray<TensorInfo>.Empty, EquatableArray<byte>.Empty);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (!SafetensorsHeader.TryParse(bytes, out List<SafetensorsTensor> tensors, out string? error))
            return new WeightsFile(path, error, EquatableArray<TensorInfo>.Empty, EquatableArray<byte>.Empty);
        return new WeightsFile(path, null,
            tensors.Select(t => new TensorInfo(t.Key, t.Dtype, new EquatableArray<ulong>(t.Shape), t.Offset, t.Length)).ToEquatableArray(),
            new EquatableArray<byte>(bytes));
    }

    /// <summary>Matches, checks and converts the weights of one parsed module that carries <c>[Weights]</c>.</summary>
    public static BakeResult Bake(ParseResult parsed, ImmutableArray<WeightsFile> files, string? projectDirectory, CancellationToken cancellationToken)
    {
        NetworkSpec spec = parsed.Spec!;
        WeightsRequest request = spec.Weights!;
        LocationInfo? location = parsed.WeightsLocation;
        BakeResult Fail(params DiagnosticInfo[] diagnostics) => new(null, EquatableArray<byte>.Empty, new EquatableArray<DiagnosticInfo>(diagnostics));
        DiagnosticInfo Report(DiagnosticDescriptor descriptor, params string[] arguments) => new(descriptor.Id, location, new EquatableArray<string>(arguments));

        (WeightsFile? file, string? problem) = Resolve(request.File, files, projectDirectory);
        if (file is null)
            return Fail(Report(Diagnostics.WeightsFileNotFound, request.File, problem!));
        if (file.Error is not null)
            return Fail(Report(Diagnostics.WeightsFileMalformed, request.File, file.Error));

        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (TensorInfo t in file.Tensors)
            tensors[t.Key] = t;
        List<(string Name, int[] Shape)> layout = spec.ParameterLayout();
        var names = new HashSet<string>(layout.Select(p => p.Name), StringComparer.Ordinal);
        var missing = new List<string>();
        var mismatched = new List<(string Key, ulong[] File, int[] Model)>();
        var diagnostics = new List<DiagnosticInfo>();
        var unloadable = new List<string>();
        foreach ((string name, int[] shape) in layout)
        {
            string key = request.Prefix + name;
            if (!tensors.TryGetValue(key, out TensorInfo? t))
                missing.Add(key);
            else if (!t.Shape.AsSpan().SequenceEqual(Array.ConvertAll(shape, d => (ulong)d)))
                mismatched.Add((key, t.Shape.AsSpan().ToArray(), shape));
            else if (!SafetensorsHeader.IsLoadable(t.Dtype))
                unloadable.Add($"{key} has dtype {t.Dtype}");
        }
        if (unloadable.Count > 0)
            diagnostics.Add(Report(Diagnostics.WeightsDtypeUnsupported, request.File, string.Join(", ", unloadable)));
        var unexpected = file.Tensors
            .Where(t => t.Key.StartsWith(request.Prefix, StringComparison.Ordinal) && !names.Contains(t.Key.Substring(request.Prefix.Length)))
            .Select(t => t.Key).OrderBy(k => k, StringComparer.Ordinal).ToList();

        Declaration declared = Declaration.Of(spec);
        Declaration? saved = Declaration.Infer(spec, tensors, request.Prefix);
        if (missing.Count + unexpected.Count > 0)
        {
            var what = new List<string>();
            if (missing.Count > 0)
                what.Add("missing key(s) " + Quoted(missing));
            if (unexpected.Count > 0)
                what.Add("unexpected key(s) " + Quoted(unexpected));
            diagnostics.Insert(0, Report(Diagnostics.WeightsKeysMismatch, request.File, declared.ToString(), request.Prefix, string.Join(" and ", what),
                KeysAdvice(declared, saved, file, request.Prefix)));
        }
        if (mismatched.Count > 0)
        {
            (string key, ulong[] fileShape, int[] modelShape) = mismatched[0];
            string advice = saved is not null && !saved.SameParameters(declared)
                ? $"the file was saved with {saved.Describe()}; {declared.Changes(saved)}, that is, declare [{saved}]"
                : "the file was saved from a module of another shape; declare the module it was saved from";
            if (mismatched.Count > 1)
                advice += $" (also mismatched: {string.Join(", ", mismatched.Skip(1).Select(m => $"{m.Key} is {Tuple(m.File)}"))})";
            diagnostics.Add(Report(Diagnostics.WeightsShapeMismatch, key, request.File, Tuple(fileShape), declared.ToString(), Tuple(modelShape.Select(d => (ulong)d)), advice));
        }
        if (diagnostics.Count > 0)
            return Fail(diagnostics.ToArray());

        cancellationToken.ThrowIfCancellationRequested();
        int total = layout.Sum(p => p.Shape.Aggregate(1, (a, b) => a * b));
        var weights = new byte[4L * total];
        int at = 0;
        ReadOnlySpan<byte> source = file.Bytes.AsSpan();
        foreach ((string name, _) in layout)
        {
            TensorInfo t = tensors[request.Prefix + name];
            at += ConvertToSingle(t.Dtype, source, t.Offset, t.Length, weights, at);
        }
        var warnings = weights.Length > LargeBytes
            ? new[] { Report(Diagnostics.WeightsLarge, request.File, (weights.Length / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture), (LargeBytes / (1024 * 1024)).ToString(CultureInfo.InvariantCulture)) }
            : Array.Empty<DiagnosticInfo>();
        return new BakeResult(spec, new EquatableArray<byte>(weights), new EquatableArray<DiagnosticInfo>(warnings));
    }

    /// <summary>
    /// The additional file that <paramref name="file"/> names: first the one at that path relative to the project directory
    /// (<c>build_property.MSBuildProjectDirectory</c>, visible to the generator through RnnGen.targets), else the only one whose
    /// path ends with it (file name or trailing path segments), which also serves hosts without that property.
    /// </summary>
    public static (WeightsFile? File, string? Problem) Resolve(string file, ImmutableArray<WeightsFile> files, string? projectDirectory)
    {
        if (file.Length == 0)
            return (null, "the file name is empty");
        if (!IsWeightsFile(file))
            return (null, $"RnnGen reads only AdditionalFiles whose name ends with {Extension}; rename the file to end with {Extension}");
        bool ignoreCase = System.IO.Path.DirectorySeparatorChar == '\\';
        StringComparison comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        string wanted = Normalize(file);
        bool rooted = wanted.StartsWith("/", StringComparison.Ordinal) || (wanted.Length > 1 && wanted[1] == ':');
        string? exact = rooted ? wanted : projectDirectory is { Length: > 0 } ? Normalize(projectDirectory + "/" + file) : null;
        if (exact is not null)
        {
            foreach (WeightsFile f in files)
            {
                if (string.Equals(Normalize(f.Path), exact, comparison))
                    return (f, null);
            }
        }
        string suffix = "/" + wanted.TrimStart('/');
        var matches = files.Where(f => ("/" + Normalize(f.Path)).EndsWith(suffix, comparison)).ToList();
        if (matches.Count == 1)
            return (matches[0], null);
        if (matches.Count > 1)
            return (null, $"it matches {matches.Count} AdditionalFiles ({string.Join(", ", matches.Select(m => m.Path))}); write its path relative to the project directory");
        return (null, exact is not null ? $"there is no AdditionalFiles item at {exact} nor one named {wanted}" : $"no AdditionalFiles item is named {wanted}");
    }

    /// <summary>Forward slashes, no "." segments, ".." applied: a path compared as text.</summary>
    private static string Normalize(string path)
    {
        string[] parts = path.Replace('\\', '/').Split('/');
        var kept = new List<string>();
        for (int i = 0; i < parts.Length; i++)
        {
            string p = parts[i];
            if (p == "." || (p.Length == 0 && i > 0))
                continue;
            if (p == ".." && kept.Count > 0 && kept[kept.Count - 1] is not (".." or ""))
                kept.RemoveAt(kept.Count - 1);
            else
                kept.Add(p);
        }
        string joined = string.Join("/", kept);
        return joined.Length == 0 && path.StartsWith("/", StringComparison.Ordinal) ? "/" : joined;
    }

    private static string KeysAdvice(Declaration declared, Declaration? saved, WeightsFile file, string prefix)
    {
        if (!file.Tensors.Any(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var prefixes = file.Tensors.Select(t => PrefixOf(t.Key)).Distinct(StringComparer.Ordinal).OrderBy(p => p, StringComparer.Ordinal).Take(6).ToList();
            return prefixes.Count == 0
                ? "the file holds no tensors; save the model's state_dict into it"
                : $"no key starts with \"{prefix}\"; the file's keys start with {string.Join(", ", prefixes.Select(p => $"\"{p}\""))}: set Prefix to this module's";
        }
        if (saved is not null && !saved.SameParameters(declared))
            return $"the file was saved with {saved.Describe()}; {declared.Changes(saved)}, that is, declare [{saved}]";
        return "declare the module the file was saved from, or set Prefix to its keys' prefix";
    }

    /// <summary>A key up to and including its last '.', or "" for a key without one.</summary>
    private static string PrefixOf(string key)
    {
        int dot = key.LastIndexOf('.');
        return dot < 0 ? "" : key.Substring(0, dot + 1);
    }

    private static string Quoted(IEnumerable<string> keys) => string.Join(", ", keys.Select(k => $"\"{k}\""));

    private static string Tuple(IEnumerable<ulong> shape) => "(" + string.Join(", ", shape) + (shape.Count() == 1 ? ",)" : ")");

    /// <summary>
    /// Appends <paramref name="length"/> bytes of <paramref name="dtype"/> at <paramref name="offset"/> as little-endian float32,
    /// as the runtime's <c>SafetensorsDtypes.ConvertToSingle</c> converts them (and <c>tensor.float()</c>): F32 copied, F16 and
    /// BF16 widened exactly, F64 rounded to nearest, ties to even. Bit manipulation rather than System.Half, which
    /// netstandard2.0 lacks. Returns the bytes written.
    /// </summary>
    private static int ConvertToSingle(string dtype, ReadOnlySpan<byte> source, int offset, int length, byte[] destination, int at)
    {
        switch (dtype)
        {
            case "F32":
                source.Slice(offset, length).CopyTo(destination.AsSpan(at));
                return length;
            case "BF16":
                for (int i = 0; i < length / 2; i++)
                    WriteBits(destination, at + 4 * i, (uint)(source[offset + 2 * i] | source[offset + 2 * i + 1] << 8) << 16);
                return 2 * length;
            case "F16":
                for (int i = 0; i < length / 2; i++)
                    WriteBits(destination, at + 4 * i, HalfToSingleBits((ushort)(source[offset + 2 * i] | source[offset + 2 * i + 1] << 8)));
                return 2 * length;
            default: // F64
                for (int i = 0; i < length / 8; i++)
                {
                    long bits = 0;
                    for (int k = 7; k >= 0; k--)
                        bits = (bits << 8) | source[offset + 8 * i + k];
                    float value = (float)BitConverter.Int64BitsToDouble(bits);
                    byte[] single = BitConverter.GetBytes(value);
                    if (!BitConverter.IsLittleEndian)
                        Array.Reverse(single);
                    Buffer.BlockCopy(single, 0, destination, at + 4 * i, 4);
                }
                return length / 2;
        }
    }

    /// <summary>IEEE binary16 to binary32, exactly (subnormals normalised; NaN keeps sign and payload with the quiet bit, as .NET's Half does).</summary>
    internal static uint HalfToSingleBits(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        int exponent = (h >> 10) & 0x1F;
        uint mantissa = (uint)(h & 0x3FF);
        if (exponent == 0x1F)
            return mantissa == 0 ? sign | 0x7F800000u : sign | 0x7FC00000u | (mantissa << 13);
        if (exponent != 0)
            return sign | (uint)(exponent - 15 + 127) << 23 | (mantissa << 13);
        if (mantissa == 0)
            return sign;
        int e = -14;
        while ((mantissa & 0x400) == 0)
        {
            mantissa <<= 1;
            e--;
        }
        return sign | (uint)(e + 127) << 23 | ((mantissa & 0x3FF) << 13);
    }

    private static void WriteBits(byte[] destination, int at, uint bits)
    {
        destination[at] = (byte)bits;
        destination[at + 1] = (byte)(bits >> 8);
        destination[at + 2] = (byte)(bits >> 16);
        destination[at + 3] = (byte)(bits >> 24);
    }

    /// <summary>The arguments of a module attribute that decide its parameters, declared or inferred from a file.</summary>
    private sealed record Declaration(string Kind, int InputSize, int HiddenSize, int NumLayers, bool Bidirectional, bool Bias, int ProjSize, string Rest, bool IsCell)
    {
        public static Declaration Of(NetworkSpec spec) =>
            new(spec.Kind.ToString(), spec.InputSize, spec.HiddenSize, spec.IsCell ? 1 : spec.NumLayers, spec.Bidirectional, spec.Bias, spec.ProjSize, Others(spec), spec.IsCell);

        /// <summary>What the file's keys under the prefix say the saved module was, read from layer 0's weights; null when they do not say.</summary>
        public static Declaration? Infer(NetworkSpec spec, Dictionary<string, TensorInfo> tensors, string prefix)
        {
            string l0 = spec.IsCell ? "" : "_l0";
            if (!tensors.TryGetValue(prefix + "weight_ih" + l0, out TensorInfo? ih) || ih.Shape.Count != 2 || ih.Shape[0] % (ulong)spec.Gates != 0
                || ih.Shape[0] / (ulong)spec.Gates > int.MaxValue || ih.Shape[1] > int.MaxValue)
                return null;
            int hidden = (int)(ih.Shape[0] / (ulong)spec.Gates);
            int proj = tensors.TryGetValue(prefix + "weight_hr" + l0, out TensorInfo? hr) && hr.Shape.Count == 2 && hr.Shape[0] <= int.MaxValue ? (int)hr.Shape[0] : 0;
            int layers = 1;
            while (!spec.IsCell && tensors.ContainsKey(prefix + $"weight_ih_l{layers}"))
                layers++;
            bool bidirectional = !spec.IsCell && tensors.ContainsKey(prefix + "weight_ih_l0_reverse");
            bool bias = tensors.ContainsKey(prefix + "bias_ih" + l0);
            return new Declaration(spec.Kind.ToString(), (int)ih.Shape[1], hidden, layers, bidirectional, bias, proj, Others(spec), spec.IsCell);
        }

        public bool SameParameters(Declaration other) =>
            InputSize == other.InputSize && HiddenSize == other.HiddenSize && NumLayers == other.NumLayers && Bidirectional == other.Bidirectional
            && Bias == other.Bias && ProjSize == other.ProjSize;

        /// <summary>In PyTorch's words: "input_size 3 and hidden_size 32, num_layers 2".</summary>
        public string Describe()
        {
            var parts = new List<string> { $"input_size {InputSize}", $"hidden_size {HiddenSize}" };
            if (!IsCell)
                parts.Add($"num_layers {NumLayers}");
            if (Bidirectional)
                parts.Add("bidirectional");
            if (!Bias)
                parts.Add("bias=False");
            if (ProjSize > 0)
                parts.Add($"proj_size {ProjSize}");
            return string.Join(", ", parts.Take(parts.Count - 1)) + (parts.Count > 1 ? " and " : "") + parts[parts.Count - 1];
        }

        /// <summary>Which attribute arguments to change to get <paramref name="saved"/>: "change inputSize from 1 to 3".</summary>
        public string Changes(Declaration saved)
        {
            var changes = new List<string>();
            void Compare<T>(string name, T mine, T theirs)
            {
                if (!EqualityComparer<T>.Default.Equals(mine, theirs))
                    changes.Add($"{name} from {Text(mine)} to {Text(theirs)}");
            }
            Compare("inputSize", InputSize, saved.InputSize);
            Compare("hiddenSize", HiddenSize, saved.HiddenSize);
            Compare("NumLayers", NumLayers, saved.NumLayers);
            Compare("Bidirectional", Bidirectional, saved.Bidirectional);
            Compare("Bias", Bias, saved.Bias);
            Compare("ProjSize", ProjSize, saved.ProjSize);
            return "change " + string.Join(", ", changes);
        }

        public override string ToString()
        {
            var text = new List<string> { InputSize.ToString(CultureInfo.InvariantCulture), HiddenSize.ToString(CultureInfo.InvariantCulture) };
            if (NumLayers != 1)
                text.Add($"NumLayers = {NumLayers}");
            if (Bidirectional)
                text.Add("Bidirectional = true");
            if (!Bias)
                text.Add("Bias = false");
            if (ProjSize > 0)
                text.Add($"ProjSize = {ProjSize}");
            if (Rest.Length > 0)
                text.Add(Rest);
            return $"{Kind}({string.Join(", ", text)})";
        }

        private static string Text<T>(T value) => value is bool b ? (b ? "true" : "false") : Convert.ToString(value, CultureInfo.InvariantCulture)!;

        /// <summary>The declared arguments that do not change the parameters, kept as written in a suggestion.</summary>
        private static string Others(NetworkSpec spec)
        {
            var text = new List<string>();
            if (spec.BatchFirst)
                text.Add("BatchFirst = true");
            if (spec.Dropout != 0)
                text.Add("Dropout = " + spec.Dropout.ToString("R", CultureInfo.InvariantCulture));
            if (spec.IsElman && spec.Activation == ActivationKind.Relu)
                text.Add("Nonlinearity = Nonlinearity.Relu");
            return string.Join(", ", text);
        }
    }
}
