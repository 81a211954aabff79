using System;
using System.Runtime.InteropServices;
using System.Text;

namespace RnnGen.Bench.Peers;

/// <summary>
/// RTNeural as a peer, where it is built: <c>RNNGEN_RTNEURAL</c> names the librtneural_probe.so (Eigen back end) or
/// librtneural_probe_xsimd.so that bench/rtneural/build.sh makes from an RTNeural checkout (RTNeural is not vendored, so
/// the peer is optional and its column reads "—" without it). Its compile-time LSTMLayerT / GRULayerT (g++ -O3 -march=native)
/// loaded with the same PyTorch-layout parameters as the other peers, one sample per forward call, as an
/// RTNeural plugin runs it. A one-sample call skips the GC transition (a C++ caller pays none, and at ~100 ns it would
/// weigh); a block of 64 (~10 µs) makes an ordinary call, whose transition is a fraction of a percent.
/// </summary>
public sealed unsafe class RtNeuralPeer : IDisposable
{
    private static readonly Lazy<nint> s_library = new(Load);
    private nint _model;
    private readonly int _hidden;

    /// <summary>Whether the peer is built and named by RNNGEN_RTNEURAL.</summary>
    public static bool Available => s_library.Value != 0;

    /// <summary>A model of the probe's case (cellH: LSTM 1→H; grucell: GRU 1→32) with the given PyTorch-layout recurrent parameters.</summary>
    public RtNeuralPeer(string probeCase, int hidden, int gates, ReadOnlySpan<float> weightIh, ReadOnlySpan<float> weightHh, ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh)
    {
        if (!Available)
            throw new InvalidOperationException("RTNeural is not built: set RNNGEN_RTNEURAL to a library bench/rtneural/build.sh made (librtneural_probe.so or librtneural_probe_xsimd.so).");
        var make = (delegate* unmanaged<byte*, nint>)Export("rtn_make");
        fixed (byte* name = Encoding.ASCII.GetBytes(probeCase + "\0"))
            _model = make(name);
        if (_model == 0)
            throw new ArgumentException($"The RTNeural probe has no case {probeCase}.", nameof(probeCase));
        _hidden = hidden;
        var load = (delegate* unmanaged<nint, int, int, float*, float*, float*, float*, int>)Export("rtn_load");
        int loaded;
        fixed (float* wi = weightIh, wh = weightHh, bi = biasIh, bh = biasHh)
            loaded = load(_model, hidden, gates, wi, wh, bi, bh);
        if (loaded != 0)
        {
            Dispose();
            throw new ArgumentException($"The RTNeural probe's {probeCase} is not {gates} gate blocks of {hidden} units.", nameof(probeCase));
        }
        s_runSample = (delegate* unmanaged[SuppressGCTransition]<nint, float*, int, float>)Export("rtn_run_layer");
        s_runBlock = (delegate* unmanaged<nint, float*, int, float>)Export("rtn_run_layer");
        s_reset = (delegate* unmanaged<nint, void>)Export("rtn_reset");
        s_hidden = (delegate* unmanaged<nint, float*, void>)Export("rtn_hidden");
    }

    private static delegate* unmanaged[SuppressGCTransition]<nint, float*, int, float> s_runSample;
    private static delegate* unmanaged<nint, float*, int, float> s_runBlock;
    private static delegate* unmanaged<nint, void> s_reset;
    private static delegate* unmanaged<nint, float*, void> s_hidden;

    /// <summary>The recurrent layer over <paramref name="x"/>, one sample per forward call, state carried; the last h[0].</summary>
    public float Run(float[] x)
    {
        fixed (float* p = x)
            return x.Length == 1 ? s_runSample(_model, p, 1) : s_runBlock(_model, p, x.Length);
    }

    /// <summary>The recurrent layer's h.</summary>
    public float[] Hidden()
    {
        var h = new float[_hidden];
        fixed (float* p = h)
            s_hidden(_model, p);
        return h;
    }

    /// <summary>Zeroes the state.</summary>
    public void Reset() => s_reset(_model);

    public void Dispose()
    {
        if (_model != 0)
            ((delegate* unmanaged<nint, void>)Export("rtn_free"))(_model);
        _model = 0;
    }

    private static nint Export(string name) => NativeLibrary.GetExport(s_library.Value, name);

    private static nint Load()
    {
        if (Environment.GetEnvironmentVariable("RNNGEN_RTNEURAL") is not { Length: > 0 } path)
            return 0;
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException($"RNNGEN_RTNEURAL={path} does not load ({e.Message}): build it with bench/rtneural/build.sh, or unset it.", e);
        }
    }
}
