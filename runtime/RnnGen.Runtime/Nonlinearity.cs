namespace RnnGen;

/// <summary>The non-linearity of an Elman RNN, PyTorch's <c>nonlinearity</c> argument.</summary>
public enum Nonlinearity
{
    /// <summary><c>h' = tanh(W_ih x + b_ih + W_hh h + b_hh)</c> (PyTorch's default).</summary>
    Tanh = 0,

    /// <summary><c>h' = relu(W_ih x + b_ih + W_hh h + b_hh)</c>.</summary>
    Relu = 1,
}
