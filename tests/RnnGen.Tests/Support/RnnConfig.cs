using System;
using System.Globalization;

namespace RnnGen.Tests.Support;

/// <summary>A module configuration as PyTorch's constructor takes it; writes the RnnGen declaration for it.</summary>
public sealed record RnnConfig(bool IsCell, int InputSize, int HiddenSize, int NumLayers = 1, bool Bidirectional = false,
    bool BatchFirst = false, bool Bias = true, Nonlinearity Nonlinearity = Nonlinearity.Tanh, double Dropout = 0, bool IsLstm = false, bool IsGru = false,
    int ProjSize = 0)
{
    /// <summary>Features of h and of the output: ProjSize when an LSTM projects, else HiddenSize.</summary>
    public int StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>The PyTorch module's name.</summary>
    public string Kind => (IsLstm ? "LSTM" : IsGru ? "GRU" : "RNN") + (IsCell ? "Cell" : "");
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Sizes the parity tests draw from: 1, 3, 17, 100 and 200 always among them, and vector-width neighbours.</summary>
    private static readonly int[] s_sizes = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200 };

    public static RnnConfig RandomRnn(Random random)
    {
        int layers = random.Next(1, 4);
        return new RnnConfig(false, Size(random), Size(random), layers, random.Next(2) == 1, random.Next(2) == 1, random.Next(2) == 1,
            random.Next(2) == 1 ? Nonlinearity.Relu : Nonlinearity.Tanh, layers > 1 && random.Next(3) == 0 ? 0.3 : 0);
    }

    public static RnnConfig RandomCell(Random random) =>
        new(true, Size(random), Size(random), Bias: random.Next(2) == 1, Nonlinearity: random.Next(2) == 1 ? Nonlinearity.Relu : Nonlinearity.Tanh);

    /// <summary>An LSTM over every flag; with <paramref name="project"/>, ProjSize drawn from [1, hiddenSize) (hidden at least 2).</summary>
    public static RnnConfig RandomLstm(Random random, bool project = false)
    {
        RnnConfig config = RandomRnn(random) with { Nonlinearity = Nonlinearity.Tanh, IsLstm = true };
        if (!project)
            return config;
        int hidden = Math.Max(2, config.HiddenSize);
        return config with { HiddenSize = hidden, ProjSize = random.Next(1, hidden) };
    }

    public static RnnConfig RandomLstmCell(Random random) => RandomCell(random) with { Nonlinearity = Nonlinearity.Tanh, IsLstm = true };

    public static RnnConfig RandomGru(Random random) => RandomRnn(random) with { Nonlinearity = Nonlinearity.Tanh, IsGru = true };

    public static RnnConfig RandomGruCell(Random random) => RandomCell(random) with { Nonlinearity = Nonlinearity.Tanh, IsGru = true };

    private static int Size(Random random) => s_sizes[random.Next(s_sizes.Length)];

    /// <summary>The attribute that declares this configuration.</summary>
    public string Attribute() => IsGru
        ? IsCell
            ? $"[RnnGen.GruCell({InputSize}, {HiddenSize}, Bias = {Bool(Bias)})]"
            : $"[RnnGen.Gru({InputSize}, {HiddenSize}, NumLayers = {NumLayers}, Bidirectional = {Bool(Bidirectional)}, BatchFirst = {Bool(BatchFirst)}, Bias = {Bool(Bias)}, Dropout = {Dropout.ToString(CultureInfo.InvariantCulture)})]"
        : (IsLstm, IsCell) switch
    {
        (false, true) => $"[RnnGen.RnnCell({InputSize}, {HiddenSize}, Bias = {Bool(Bias)}, Nonlinearity = RnnGen.Nonlinearity.{Nonlinearity})]",
        (false, false) => $"[RnnGen.Rnn({InputSize}, {HiddenSize}, NumLayers = {NumLayers}, Bidirectional = {Bool(Bidirectional)}, BatchFirst = {Bool(BatchFirst)}, Bias = {Bool(Bias)}, Nonlinearity = RnnGen.Nonlinearity.{Nonlinearity}, Dropout = {Dropout.ToString(CultureInfo.InvariantCulture)})]",
        (true, true) => $"[RnnGen.LstmCell({InputSize}, {HiddenSize}, Bias = {Bool(Bias)})]",
        (true, false) => $"[RnnGen.Lstm({InputSize}, {HiddenSize}, NumLayers = {NumLayers}, Bidirectional = {Bool(Bidirectional)}, BatchFirst = {Bool(BatchFirst)}, Bias = {Bool(Bias)}, Dropout = {Dropout.ToString(CultureInfo.InvariantCulture)}, ProjSize = {ProjSize})]",
    };

    /// <summary>The run-time-sized module of the same configuration.</summary>
    public object CreateDynamic(int seed) => IsGru
        ? IsCell ? new Dynamic.GruCell(InputSize, HiddenSize, Bias, seed) : new Dynamic.Gru(InputSize, HiddenSize, NumLayers, Bias, BatchFirst, Dropout, Bidirectional, seed)
        : (IsLstm, IsCell) switch
    {
        (false, true) => new Dynamic.RnnCell(InputSize, HiddenSize, Bias, Nonlinearity, seed),
        (false, false) => new Dynamic.Rnn(InputSize, HiddenSize, NumLayers, Nonlinearity, Bias, BatchFirst, Dropout, Bidirectional, seed),
        (true, true) => new Dynamic.LstmCell(InputSize, HiddenSize, Bias, seed),
        (true, false) => new Dynamic.Lstm(InputSize, HiddenSize, NumLayers, Bias, BatchFirst, Dropout, Bidirectional, ProjSize, seed),
    };

    public override string ToString() => Attribute();

    private static string Bool(bool b) => b ? "true" : "false";
}
