using RnnGen;

namespace RnnGen.Demo;

/// <summary>The tutorial's nn.RNNCell(100, 200).</summary>
[RnnCell(inputSize: 100, hiddenSize: 200)]
public partial class TutorialCell;

/// <summary>The tutorial's nn.RNN(100, 200).</summary>
[Rnn(inputSize: 100, hiddenSize: 200)]
public partial class TutorialRnn;

/// <summary>A streaming size: one input sample, 32 hidden units, one step per audio sample.</summary>
[Rnn(inputSize: 1, hiddenSize: 32)]
public partial class AmpRnn;

/// <summary>The time-series model of the airline demo: windows of months in, batch-first (the tutorial's LSTM).</summary>
[Lstm(inputSize: 1, hiddenSize: 32, BatchFirst = true)]
public partial class PassengerLstm;

/// <summary>A typical guitar-amp model size: one input sample, 32 hidden units, one step per audio sample.</summary>
[LstmCell(inputSize: 1, hiddenSize: 32)]
public partial class AmpCell;
