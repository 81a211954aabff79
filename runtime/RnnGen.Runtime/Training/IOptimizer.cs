namespace RnnGen.Training;

/// <summary>Updates parameters from their gradients, as <c>torch.optim</c> optimizers do.</summary>
public interface IOptimizer
{
    /// <summary>One update of every parameter from its current gradient (PyTorch's <c>optimizer.step()</c>).</summary>
    void Step();

    /// <summary>Clears every gradient (PyTorch's <c>optimizer.zero_grad()</c>).</summary>
    void ZeroGrad();

    /// <summary>The learning rate of the next step.</summary>
    float LearningRate { get; set; }
}
