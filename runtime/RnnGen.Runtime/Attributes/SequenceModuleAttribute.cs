namespace RnnGen;

/// <summary>The arguments a sequence module (RNN, LSTM, GRU) adds to a cell's, with PyTorch's defaults.</summary>
public abstract class SequenceModuleAttribute : RecurrentModuleAttribute
{
    private protected SequenceModuleAttribute(int inputSize, int hiddenSize)
        : base(inputSize, hiddenSize)
    {
    }

    /// <summary>PyTorch's <c>num_layers</c> (default 1).</summary>
    public int NumLayers { get; set; } = 1;

    /// <summary>PyTorch's <c>batch_first</c> (default false): input and output are (batch, seq, feature).</summary>
    public bool BatchFirst { get; set; }

    /// <summary>PyTorch's <c>dropout</c> between layers (default 0); applies in training only.</summary>
    public double Dropout { get; set; }

    /// <summary>PyTorch's <c>bidirectional</c> (default false).</summary>
    public bool Bidirectional { get; set; }
}
