using RnnGen;

namespace Modules24;

[Rnn(1, 16)] public partial class Rnn1;
[Rnn(8, 64, BatchFirst = true)] public partial class Rnn2;
[Rnn(32, 128, NumLayers = 2)] public partial class Rnn3;
[Rnn(100, 200, Bidirectional = true)] public partial class Rnn4;
[RnnCell(1, 16)] public partial class RnnCell1;
[RnnCell(3, 17, Nonlinearity = Nonlinearity.Relu, Bias = false)] public partial class RnnCell2;
[RnnCell(16, 64)] public partial class RnnCell3;
[RnnCell(64, 256)] public partial class RnnCell4;
[Lstm(1, 32)] public partial class Lstm1;
[Lstm(1, 12, NumLayers = 2)] public partial class Lstm2;
[Lstm(5, 20, ProjSize = 6)] public partial class Lstm3;
[Lstm(64, 128, Bidirectional = true)] public partial class Lstm4;
[LstmCell(1, 12)] public partial class LstmCell1;
[LstmCell(1, 32)] public partial class LstmCell2;
[LstmCell(16, 64)] public partial class LstmCell3;
[LstmCell(100, 200)] public partial class LstmCell4;
[Gru(1, 32)] public partial class Gru1;
[Gru(1, 12, Bidirectional = true)] public partial class Gru2;
[Gru(16, 64, NumLayers = 2)] public partial class Gru3;
[Gru(128, 128)] public partial class Gru4;
[GruCell(1, 12)] public partial class GruCell1;
[GruCell(1, 32)] public partial class GruCell2;
[GruCell(16, 64)] public partial class GruCell3;
[GruCell(64, 96)] public partial class GruCell4;
