using RnnGen;

namespace RnnGen.Bench;

// The modules the suite measures, declared at compile time; each case says why its sizes are there.

[LstmCell(1, 12)] public partial class LstmCell12;
[LstmCell(1, 16)] public partial class LstmCell16;
[LstmCell(1, 24)] public partial class LstmCell24;
[LstmCell(1, 32)] public partial class LstmCell32;
[Lstm(1, 12)] public partial class Lstm12;
[Lstm(1, 16)] public partial class Lstm16;
[Lstm(1, 24)] public partial class Lstm24;
[Lstm(1, 32)] public partial class Lstm32;
[GruCell(1, 32)] public partial class GruCell32;
[Gru(1, 32)] public partial class Gru32;
[RnnCell(1, 32)] public partial class RnnCell32;
[Lstm(100, 200)] public partial class Lstm100x200;
[Rnn(100, 200)] public partial class TutorialRnn;
[Lstm(128, 128)] public partial class Lstm128;
[Gru(128, 128)] public partial class Gru128;
[Rnn(100, 200, NumLayers = 2, Bidirectional = true)] public partial class BidirectionalRnn;
