using RnnGen;

namespace RnnGen.Tests;

// Modules declared at compile time for the tests. Sizes include 1, 3, 17, 100 and 200: tails are where
// kernels break (17 = 16 + 1, 100 = 6·16 + 4, 200 = 12·16 + 8; 3 is less than any vector).

[RnnCell(inputSize: 100, hiddenSize: 200)]
public partial class TutorialCell;

[Rnn(inputSize: 100, hiddenSize: 200)]
public partial class TutorialRnn;

[RnnCell(1, 1)]
public partial class TinyCell;

[RnnCell(3, 17, Nonlinearity = Nonlinearity.Relu)]
public partial class ReluCell;

[RnnCell(17, 3, Bias = false)]
public partial class NoBiasCell;

[Rnn(1, 32)]
public partial class StreamingRnn;

[Rnn(3, 17, NumLayers = 2, Bidirectional = true, BatchFirst = true, Nonlinearity = Nonlinearity.Relu, Bias = false)]
public partial class MixedRnn;

[Rnn(17, 100, NumLayers = 3, Bidirectional = true)]
public partial class DeepBidirectionalRnn;

[Rnn(200, 3, BatchFirst = true)]
public partial class WideInputRnn;

[Rnn(5, 33, NumLayers = 2, Dropout = 0.25)]
public partial class TwoLayerRnn;

public static partial class Outer
{
    [Rnn(4, 9)]
    public partial class NestedRnn;
}

[LstmCell(1, 32)]
public partial class AmpLstmCell;

[Lstm(3, 17, NumLayers = 2, Bidirectional = true, BatchFirst = true)]
public partial class MixedLstm;

[Lstm(100, 200)]
public partial class WideLstm;

[GruCell(1, 32)]
public partial class AmpGruCell;

[Gru(17, 100, NumLayers = 2, Bidirectional = true)]
public partial class DeepGru;

[Lstm(10, 33, NumLayers = 2, Bidirectional = true, ProjSize = 7)]
public partial class ProjectedLstm;

// Two tiles of units on AVX-512 (16 + 4 real of 16): single rows run the two-tile kernel with a tail.
[Lstm(2, 20)]
public partial class PairTailLstm;

// Inference-only twins (Training = false) of modules above: the same forward, bit for bit, without backward kernels.
[Rnn(17, 100, NumLayers = 3, Bidirectional = true, Training = false)]
public partial class DeepBidirectionalRnnInference;

[RnnCell(3, 17, Nonlinearity = Nonlinearity.Relu, Training = false)]
public partial class ReluCellInference;

[Lstm(10, 33, NumLayers = 2, Bidirectional = true, ProjSize = 7, Training = false)]
public partial class ProjectedLstmInference;

[LstmCell(1, 32, Training = false)]
public partial class AmpLstmCellInference;

[Gru(17, 100, NumLayers = 2, Bidirectional = true, Training = false)]
public partial class DeepGruInference;

[GruCell(1, 32, Training = false)]
public partial class AmpGruCellInference;

[Lstm(2, 20, Training = false)]
public partial class PairTailLstmInference;

// The streaming cells' sizes (12 and 24 units: padded rows on AVX-512; 16 and 32: not), for the batch-of-one tests.
[LstmCell(1, 12)]
public partial class StreamLstmCell12;

[LstmCell(1, 16)]
public partial class StreamLstmCell16;

[LstmCell(1, 24)]
public partial class StreamLstmCell24;

[GruCell(1, 12)]
public partial class StreamGruCell12;

// Sequence modules for the block kernel's own input projection (inputs of at most four): every layer of a narrow
// stack projects inside the kernel, reading the layer below's output row before it overwrites it; five inputs do not.
[Lstm(1, 12)]
public partial class StreamLstm12;

[Lstm(3, 3, NumLayers = 3)]
public partial class NarrowStackLstm;

[Gru(4, 4, NumLayers = 2)]
public partial class NarrowStackGru;

[Gru(5, 12)]
public partial class WideInputGru;

// Hidden 1 and 5: the gated steps' one-input products are straight-line code (no loop that runs once), and a
// single row's five inputs are one pass of four accumulator sets plus one.
[LstmCell(1, 1)]
public partial class TinyLstmCell;

[GruCell(1, 1)]
public partial class TinyGruCell;

[LstmCell(3, 5)]
public partial class FiveLstmCell;

[Lstm(6, 1, NumLayers = 2)]
public partial class TinyLstm;

// Several tiles of units with a partial last one on every path (AVX-512: 16 + 16 + 10 real of 16; AVX2: five of 8 and
// one of 2, packed 4 wide, its own width (PathPlan.NarrowLastTile); 128-bit: ten of 4 and 2 of 4), one direction: a row's step walks its tiles one kernel call each, in either
// order (TileOrderTests).
[LstmCell(20, 42)]
public partial class TiledLstmCell;

[GruCell(20, 42)]
public partial class TiledGruCell;

[Gru(20, 42)]
public partial class TiledGru;

// Batches of one whose weights overflow L2 (0.96 to 1.54 MB packed per layer), which split over threads by tiles of
// units (Parallelism): 250 units end in a partial tile on every path (AVX-512 10 of 16 lanes, AVX2 2 units packed 4
// wide, 128-bit 2 of 4), 200 on AVX-512 only (8 units packed 8 wide). NarrowThenWideGru's layer 0 (780 KB) does not split; its layer 1 does, from a copy of
// the output it overwrites.
[LstmCell(100, 250)]
public partial class WideLstmCell;

[Lstm(100, 200, NumLayers = 2)]
public partial class WideTwoLayerLstm;

[Gru(100, 250)]
public partial class WideGru;

[GruCell(100, 250)]
public partial class WideGruCell;

[Gru(4, 250, NumLayers = 2)]
public partial class NarrowThenWideGru;

// A last tile of units packed at its own width, half a vector (PathPlan.NarrowLastTile), in a batch of one that steps tile
// by tile and splits over threads: 260 units are 16 tiles and 4 units on AVX-512 and 32 tiles and 4 units on AVX2 (1.14
// and 1.12 MB packed: 2 parts); LstmCell(3000, 40) is 2 tiles and 8 units on AVX-512, 1.95 MB, so that at three threads
// a part holds the narrow tile alone. The GRU cell has no bias (the narrow bias row is cleared).
[Gru(100, 260)]
public partial class NarrowTileGru;

[GruCell(100, 260, Bias = false)]
public partial class NarrowTileGruCell;

[LstmCell(3000, 40)]
public partial class NarrowTileLstmCell;
