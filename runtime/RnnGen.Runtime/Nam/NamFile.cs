using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace RnnGen;

/// <summary>
/// A Neural Amp Modeler model file (<c>.nam</c>, versions 0.5.0 to 0.7.x) with the LSTM architecture, read and
/// validated: an <c>nn.LSTM(input_size, hidden_size, num_layers)</c> followed by an <c>nn.Linear(hidden_size, 1)</c>
/// head, with the state the model starts from. <see cref="LoadInto"/> copies the weights into any
/// <see cref="ILstmModule"/> of that shape and a <see cref="Dynamic.Linear"/>; <see cref="NamModel"/> runs them.
/// </summary>
/// <remarks>
/// <para>
/// The file is JSON: <c>{"version", "metadata", "architecture": "LSTM", "config": {"input_size", "hidden_size",
/// "num_layers"}, "weights": [...], "sample_rate"}</c>. The flat <c>weights</c> array holds, for each layer l (input
/// width I = input_size for layer 0, hidden_size above): the 4H × (I + H) matrix <c>cat([weight_ih_l, weight_hh_l],
/// dim=1)</c> row-major (PyTorch's gate order i, f, g, o), then <c>bias_ih_l + bias_hh_l</c> (4H), then the layer's
/// initial h (H) and initial c (H); after the layers, the head's weight (H) and bias (1). This is what NAM's trainer
/// exports (<c>LSTM._export_weights</c>) and what NeuralAmpModelerCore reads (<c>nam::lstm::LSTM</c>).
/// </para>
/// <para>
/// Anything else throws <see cref="InvalidDataException"/> naming the file and the reason: text that is not UTF-8
/// JSON (NaN and Infinity literals included), a missing or mistyped field, a key given twice, a version outside
/// 0.5.0–0.7.x, an architecture other than LSTM, sizes below 1, a weight outside float32's range, or a weight count
/// other than the config implies. The weights are never allocated from a declared size: their count is what the file
/// holds, compared with what the config implies.
/// </para>
/// </remarks>
public sealed class NamFile
{
    private const string MemorySource = "(memory)";

    /// <summary>The nesting the reader accepts (the metadata may nest; NAM's files nest three or four levels).</summary>
    private const int MaxDepth = 64;

    private readonly float[] _weights;
    private readonly float[] _h0;
    private readonly float[] _c0;

    private NamFile(string source, string version, int inputSize, int hiddenSize, int numLayers, double? sampleRate,
        Dictionary<string, string> metadata, float[] weights)
    {
        Source = source;
        Version = version;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        SampleRate = sampleRate;
        Metadata = metadata;
        _weights = weights;
        _h0 = new float[numLayers * hiddenSize];
        _c0 = new float[numLayers * hiddenSize];
        int offset = 0;
        for (int layer = 0; layer < numLayers; layer++)
        {
            int inWidth = layer == 0 ? inputSize : hiddenSize;
            offset += 4 * hiddenSize * (inWidth + hiddenSize) + 4 * hiddenSize;
            weights.AsSpan(offset, hiddenSize).CopyTo(_h0.AsSpan(layer * hiddenSize));
            offset += hiddenSize;
            weights.AsSpan(offset, hiddenSize).CopyTo(_c0.AsSpan(layer * hiddenSize));
            offset += hiddenSize;
        }
    }

    /// <summary>The oldest file version read (NeuralAmpModelerCore's <c>EARLIEST_SUPPORTED_NAM_FILE_VERSION</c>).</summary>
    public const string EarliestVersion = "0.5.0";

    /// <summary>Versions from <see cref="EarliestVersion"/> up to, not including, this one are read.</summary>
    public const string VersionLimit = "0.8.0";

    /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a NAM LSTM model this reader supports; the message names the file and the reason.</exception>
    public static NamFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Validates the UTF-8 text of a <c>.nam</c> file held in memory.</summary>
    /// <param name="source">A name for messages; "(memory)" by default.</param>
    /// <exception cref="InvalidDataException">The text is not a NAM LSTM model this reader supports.</exception>
    public static NamFile Parse(ReadOnlySpan<byte> utf8Json, string? source = null) =>
        NamReader.Parse(utf8Json, source ?? MemorySource);

    /// <summary>The path the file was read from, or the name given to <see cref="Parse"/>.</summary>
    public string Source { get; }

    /// <summary>The file's <c>version</c>, such as "0.5.4".</summary>
    public string Version { get; }

    /// <summary><c>config.input_size</c>: features per sample (1 for a mono amp model).</summary>
    public int InputSize { get; }

    /// <summary><c>config.hidden_size</c>.</summary>
    public int HiddenSize { get; }

    /// <summary><c>config.num_layers</c>.</summary>
    public int NumLayers { get; }

    /// <summary><c>sample_rate</c> in Hz (the rate the model was trained at), or null when the file does not say.</summary>
    public double? SampleRate { get; }

    /// <summary>
    /// The <c>metadata</c> entries with simple values: strings as they are, numbers as their JSON text
    /// (<c>"loudness"</c> → "-37.8406867980957"), booleans as "true"/"false". Nested objects, arrays and nulls are
    /// left out. Empty when the file has no metadata.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The hidden state the model starts from, (layers, 1, hidden): NAM's state after settling on silence, not zeros.</summary>
    public ReadOnlySpan<float> InitialH => _h0;

    /// <summary>The cell state the model starts from, (layers, 1, hidden).</summary>
    public ReadOnlySpan<float> InitialC => _c0;

    /// <summary>The attribute that declares a module of this file's shape, such as <c>[Lstm(1, 3)]</c>.</summary>
    public string Declaration => NumLayers == 1
        ? string.Create(CultureInfo.InvariantCulture, $"[Lstm({InputSize}, {HiddenSize})]")
        : string.Create(CultureInfo.InvariantCulture, $"[Lstm({InputSize}, {HiddenSize}, NumLayers = {NumLayers})]");

    /// <summary>
    /// Copies the weights into <paramref name="lstm"/> and <paramref name="head"/>: per layer, <c>weight_ih_l</c> and
    /// <c>weight_hh_l</c> from the concatenated matrix, <c>bias_ih_l</c> = the file's summed bias and
    /// <c>bias_hh_l</c> = 0 (the LSTM adds them, so the result is the file's); the head's <c>weight</c> and
    /// <c>bias</c>. All or nothing: both are checked first, and nothing changes unless both fit.
    /// </summary>
    /// <param name="lstm">A unidirectional LSTM with bias and without projection, of the file's sizes: a generated class
    /// declared with <see cref="Declaration"/>, or <c>new Dynamic.Lstm(InputSize, HiddenSize, NumLayers)</c>.</param>
    /// <param name="head"><c>new Dynamic.Linear(HiddenSize, 1)</c>.</param>
    /// <exception cref="InvalidDataException">The file's shape is not the module's; the message says what to declare.</exception>
    public void LoadInto(ILstmModule lstm, Dynamic.Linear head)
    {
        ArgumentNullException.ThrowIfNull(lstm);
        ArgumentNullException.ThrowIfNull(head);
        if (lstm.InputSize != InputSize || lstm.HiddenSize != HiddenSize || lstm.NumLayers != NumLayers || lstm.NumDirections != 1
            || lstm.ProjSize != 0 || !lstm.Parameters.Contains("bias_ih_l0"))
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{Source}' is LSTM(input_size {InputSize}, hidden_size {HiddenSize}, num_layers {NumLayers}), but the module is {Describe(lstm)}: declare {Declaration} (or use new Dynamic.Lstm({InputSize}, {HiddenSize}, numLayers: {NumLayers}))."));
        }
        if (head.InFeatures != HiddenSize || head.OutFeatures != 1 || !head.HasBias)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{Source}' has a Linear({HiddenSize}, 1) head with bias, but the head given is Linear({head.InFeatures}, {head.OutFeatures}{(head.HasBias ? "" : ", bias: false")}): use new Dynamic.Linear({HiddenSize}, 1)."));
        }

        ReadOnlySpan<float> w = _weights;
        int h = HiddenSize, offset = 0;
        ParameterSet p = lstm.Parameters;
        for (int layer = 0; layer < NumLayers; layer++)
        {
            int inWidth = layer == 0 ? InputSize : h;
            Span<float> weightIh = p[$"weight_ih_l{layer}"];
            Span<float> weightHh = p[$"weight_hh_l{layer}"];
            for (int row = 0; row < 4 * h; row++)
            {
                w.Slice(offset, inWidth).CopyTo(weightIh.Slice(row * inWidth, inWidth));
                w.Slice(offset + inWidth, h).CopyTo(weightHh.Slice(row * h, h));
                offset += inWidth + h;
            }
            w.Slice(offset, 4 * h).CopyTo(p[$"bias_ih_l{layer}"]);
            p[$"bias_hh_l{layer}"].Clear();
            offset += 4 * h + 2 * h; // the bias, then the initial h and c (kept by the constructor)
        }
        w.Slice(offset, h).CopyTo(head.Parameters["weight"]);
        head.Parameters["bias"][0] = w[offset + h];
    }

    /// <summary>The number of floats <c>weights</c> must hold for these sizes, or -1 when it exceeds any array.</summary>
    internal static long ExpectedWeightCount(int inputSize, int hiddenSize, int numLayers)
    {
        // Per layer 4H·(I + H) + 4H + 2H, then the head's H + 1; in decimal, which no int sizes overflow.
        decimal h = hiddenSize;
        decimal first = 4 * h * (inputSize + h) + 6 * h;
        decimal above = 4 * h * (h + h) + 6 * h;
        decimal total = first + (numLayers - 1) * above + h + 1;
        return total > int.MaxValue ? -1 : (long)total;
    }

    private static string Describe(ILstmModule m)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"LSTM(input_size {m.InputSize}, hidden_size {m.HiddenSize}, num_layers {m.NumLayers}");
        if (m.NumDirections != 1)
            text.Append(", bidirectional");
        if (m.ProjSize != 0)
            text.Append(CultureInfo.InvariantCulture, $", proj_size {m.ProjSize}");
        if (!m.Parameters.Contains("bias_ih_l0"))
            text.Append(", bias False");
        return text.Append(')').ToString();
    }

    /// <summary>The one-pass reader: every field checked as it is read, the whole checked before a NamFile exists.</summary>
    private ref struct NamReader
    {
        private readonly string _source;
        private Utf8JsonReader _json;

        private NamReader(ReadOnlySpan<byte> utf8Json, string source)
        {
            _source = source;
            _json = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth });
        }

        public static NamFile Parse(ReadOnlySpan<byte> utf8Json, string source)
        {
            if (!Utf8.IsValid(utf8Json))
                throw Invalid(source, "it is not UTF-8 text");
            var reader = new NamReader(utf8Json, source);
            try
            {
                return reader.ReadFile();
            }
            catch (JsonException e)
            {
                throw Invalid(source, $"it is not valid JSON ({e.Message})");
            }
            catch (InvalidOperationException e)
            {
                // GetString on an escape that is not valid UTF-16 (a lone surrogate).
                throw Invalid(source, $"it has a string that is not valid text ({e.Message})");
            }
        }

        private NamFile ReadFile()
        {
            if (!_json.Read() || _json.TokenType != JsonTokenType.StartObject)
                throw Invalid("it is not a JSON object");
            string? version = null, architecture = null;
            bool sawConfig = false;
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var config = new Config();
            double? sampleRate = null;
            List<float>? weights = null;
            var keys = new HashSet<string>(StringComparer.Ordinal);
            while (Next() != JsonTokenType.EndObject)
            {
                string key = _json.GetString()!;
                if (!keys.Add(key))
                    throw Invalid($"it has \"{key}\" twice");
                switch (key)
                {
                    case "version":
                        version = ReadString(key);
                        break;
                    case "architecture":
                        architecture = ReadString(key);
                        break;
                    case "metadata":
                        ReadMetadata(metadata);
                        break;
                    case "config":
                        sawConfig = true;
                        config = ReadConfig();
                        break;
                    case "weights":
                        weights = ReadWeights();
                        break;
                    case "sample_rate":
                        sampleRate = ReadSampleRate();
                        break;
                    default:
                        Next();
                        _json.Skip(); // fields a later version may add
                        break;
                }
            }
            if (_json.Read())
                throw Invalid("it has content after its JSON object");

            if (version is null)
                throw Invalid("it has no \"version\"");
            CheckVersion(version);
            if (architecture is null)
                throw Invalid("it has no \"architecture\"");
            if (architecture != "LSTM")
                throw Invalid($"its architecture is \"{architecture}\"; RnnGen reads LSTM models only");
            if (!sawConfig)
                throw Invalid("it has no \"config\"");
            if (config.Problem is not null)
                throw Invalid(config.Problem);
            if (weights is null)
                throw Invalid("it has no \"weights\"");
            long expected = ExpectedWeightCount(config.InputSize, config.HiddenSize, config.NumLayers);
            if (expected != weights.Count)
                throw Invalid(string.Create(CultureInfo.InvariantCulture,
                    $"its config LSTM(input_size {config.InputSize}, hidden_size {config.HiddenSize}, num_layers {config.NumLayers}) needs {(expected < 0 ? "more than 2^31" : expected.ToString(CultureInfo.InvariantCulture))} weights, but \"weights\" holds {weights.Count}"));
            return new NamFile(_source, version, config.InputSize, config.HiddenSize, config.NumLayers, sampleRate, metadata, weights.ToArray());
        }

        private void CheckVersion(string version)
        {
            string[] parts = version.Split('.');
            var numbers = new int[3];
            bool valid = parts.Length == 3;
            for (int i = 0; valid && i < 3; i++)
                valid = parts[i].Length is > 0 and <= 9 && IsDigits(parts[i]) && int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]);
            if (!valid)
                throw Invalid($"its version \"{version}\" is not major.minor.patch");
            bool supported = numbers[0] == 0 && numbers[1] >= 5 && numbers[1] <= 7;
            if (!supported)
                throw Invalid($"its version {version} is outside the versions read ({EarliestVersion} to 0.7.x)");
        }

        private static bool IsDigits(string s)
        {
            foreach (char ch in s)
            {
                if (ch is < '0' or > '9')
                    return false;
            }
            return true;
        }

        private string ReadString(string key)
        {
            if (Next() != JsonTokenType.String)
                throw Invalid($"its \"{key}\" is not a string");
            return _json.GetString()!;
        }

        private void ReadMetadata(Dictionary<string, string> metadata)
        {
            JsonTokenType token = Next();
            if (token == JsonTokenType.Null)
                return;
            if (token != JsonTokenType.StartObject)
                throw Invalid("its \"metadata\" is not an object");
            while (Next() != JsonTokenType.EndObject)
            {
                string name = _json.GetString()!;
                string? value = Next() switch
                {
                    JsonTokenType.String => _json.GetString(),
                    JsonTokenType.Number => Encoding.UTF8.GetString(_json.ValueSpan),
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    _ => null,
                };
                if (value is null)
                    _json.Skip(); // an object, array or null: not a simple value
                if (metadata.ContainsKey(name))
                    throw Invalid($"its metadata has \"{name}\" twice");
                if (value is not null)
                    metadata.Add(name, value);
            }
        }

        private struct Config
        {
            public int InputSize, HiddenSize, NumLayers;
            public string? Problem;
        }

        /// <summary>The config's sizes; a problem is kept, not thrown, so that another architecture's config is reported as that architecture.</summary>
        private Config ReadConfig()
        {
            var config = new Config();
            if (Next() != JsonTokenType.StartObject)
            {
                _json.Skip();
                config.Problem = "its \"config\" is not an object";
                return config;
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (Next() != JsonTokenType.EndObject)
            {
                string name = _json.GetString()!;
                if (!seen.Add(name))
                    throw Invalid($"its config has \"{name}\" twice");
                Next();
                if (name is not ("input_size" or "hidden_size" or "num_layers"))
                {
                    _json.Skip();
                    continue;
                }
                if (_json.TokenType != JsonTokenType.Number || !_json.TryGetInt32(out int value) || value < 1)
                {
                    _json.Skip();
                    config.Problem ??= $"its config's \"{name}\" is not an integer from 1 to 2^31-1";
                    continue;
                }
                switch (name)
                {
                    case "input_size": config.InputSize = value; break;
                    case "hidden_size": config.HiddenSize = value; break;
                    default: config.NumLayers = value; break;
                }
            }
            if (config.Problem is null)
            {
                string? missing = config.InputSize == 0 ? "input_size" : config.HiddenSize == 0 ? "hidden_size" : config.NumLayers == 0 ? "num_layers" : null;
                if (missing is not null)
                    config.Problem = $"its config has no \"{missing}\"";
            }
            return config;
        }

        private List<float> ReadWeights()
        {
            if (Next() != JsonTokenType.StartArray)
                throw Invalid("its \"weights\" is not an array");
            // Grows with what the file holds (every number takes at least two bytes of it), never from a declared size.
            var weights = new List<float>();
            while (Next() != JsonTokenType.EndArray)
            {
                if (_json.TokenType != JsonTokenType.Number)
                    throw Invalid(string.Create(CultureInfo.InvariantCulture, $"weight {weights.Count} is not a number"));
                if (!_json.TryGetDouble(out double value) || !float.IsFinite((float)value))
                    throw Invalid(string.Create(CultureInfo.InvariantCulture, $"weight {weights.Count} ({Encoding.UTF8.GetString(_json.ValueSpan)}) is outside float32's range"));
                weights.Add((float)value);
            }
            return weights;
        }

        private double? ReadSampleRate()
        {
            JsonTokenType token = Next();
            if (token == JsonTokenType.Null)
                return null;
            if (token != JsonTokenType.Number || !_json.TryGetDouble(out double rate) || !double.IsFinite(rate) || rate <= 0)
                throw Invalid("its \"sample_rate\" is not a positive number");
            return rate;
        }

        /// <summary>Reads one token, failing on the end of input (the reader holds the whole text).</summary>
        private JsonTokenType Next()
        {
            if (!_json.Read())
                throw new JsonException("unexpected end of the text");
            return _json.TokenType;
        }

        private readonly InvalidDataException Invalid(string reason) => NamReader.Invalid(_source, reason);

        private static InvalidDataException Invalid(string source, string reason) =>
            new($"'{source}' is not a NAM LSTM model RnnGen can read: {reason}.");
    }
}
