using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Bench.Peers;

/// <summary>PyTorch 2.10 through TorchSharp as a peer: one thread, our parameters loaded by name.</summary>
public static class TorchPeer
{
    /// <summary>Sets one intra-op thread (the suite compares single-threaded kernels).</summary>
    public static void SingleThreaded() => torch.set_num_threads(1);

    /// <summary>Copies every parameter into <paramref name="module"/> by PyTorch name; the names must agree.</summary>
    public static T Load<T>(T module, ParameterSet parameters) where T : nn.Module
    {
        var named = module.named_parameters().ToArray();
        if (!named.Select(p => p.name).SequenceEqual(parameters.Names))
            throw new InvalidOperationException($"PyTorch's parameters ({string.Join(", ", named.Select(p => p.name))}) differ from ours ({string.Join(", ", parameters.Names)}).");
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in named)
                parameter.copy_(torch.tensor(parameters.GetReadOnly(name).ToArray(), parameter.shape));
        }
        return module;
    }

    public static float[] ToArray(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}
