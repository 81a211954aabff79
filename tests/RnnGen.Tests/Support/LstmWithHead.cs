using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Tests.Support;

/// <summary>A PyTorch model with <c>self.lstm</c> and <c>self.head</c>, as a PyTorch user writes it: head(lstm(x)[-1]).</summary>
internal sealed class LstmWithHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE0044 // TorchSharp registers fields by name: these names are the state_dict prefixes.
    private TorchSharp.Modules.LSTM lstm;
    private TorchSharp.Modules.Linear head;
#pragma warning restore IDE0044

    public LstmWithHead(int input, int hidden, int layers) : base(nameof(LstmWithHead))
    {
        lstm = nn.LSTM(input, hidden, layers);
        head = nn.Linear(hidden, 1);
        RegisterComponents();
    }

    /// <summary>The recurrent part (state_dict prefix <c>lstm.</c>).</summary>
    public TorchSharp.Modules.LSTM Lstm => lstm;

    /// <summary>head(output[-1]): the prediction from the last step, (batch, 1).</summary>
    public override Tensor forward(Tensor x) => head.forward(lstm.forward(x).Item1[-1]);
}
