// RTNeural as a peer of bench/side-by-side/Probe.cs: the same streaming workloads (one sample per forward call, state
// carried, Dense(H→1) head on each sample's h), built by build.sh into librtneural_probe.so for P/Invoke. RTNeural is not
// vendored: it is compiled in from a checkout given to build.sh. Only its compile-time layers are used (LSTMLayerT /
// GRULayerT + DenseT, Eigen or xsimd backend), chained exactly as ModelT<float, 1, 1, Rnn, DenseT>::forward does per sample,
// without ModelT.h itself (it pulls in the json model loader). Weights are built in PyTorch's layout and loaded with
// RTNeural's own setters; rtn_selfcheck compares against a double-precision PyTorch formula in this file.
#include <RTNeural/lstm/lstm.h>
#include <RTNeural/gru/gru.h>
#include <RTNeural/dense/dense.h> // after lstm.h/gru.h: dense_eigen.h uses RTNeuralEigenAlignment from common.h
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#if !RTNEURAL_USE_EIGEN && !RTNEURAL_USE_XSIMD
#error "Probe.cpp drives RTNeural's Eigen or xsimd backend: build with -DRTNEURAL_USE_EIGEN=1 or -DRTNEURAL_USE_XSIMD=1 (see build.sh)"
#endif

namespace
{
/// <summary>A PyTorch nn.LSTM / nn.GRU (1 input, H hidden, gate blocks G = 4 or 3) plus nn.Linear(H, 1).</summary>
struct TorchWeights
{
    int H, G;
    std::vector<float> wIh, wHh, bIh, bHh, head; // [G*H][1], [G*H][H], [G*H], [G*H], [H]; head bias is 0.1
    TorchWeights(int h, int g) : H(h), G(g), wIh(g * h), wHh(g * h * h), bIh(g * h), bHh(g * h), head(h)
    {
        // Small deterministic values, a different phase per tensor; the head matches Probe.cs's Head(H) and Dot.
        for (int k = 0; k < G * H; k++) wIh[k] = 0.3f * std::sin(k * 0.7f + 0.1f);
        for (int k = 0; k < G * H * H; k++) wHh[k] = 0.3f * std::sin(k * 0.7f + 1.3f);
        for (int k = 0; k < G * H; k++) bIh[k] = 0.3f * std::sin(k * 0.7f + 2.9f);
        for (int k = 0; k < G * H; k++) bHh[k] = 0.3f * std::sin(k * 0.7f + 4.1f);
        for (int j = 0; j < H; j++) head[j] = 0.1f * std::cos((float)j);
    }

    /// <summary>Given recurrent weights in PyTorch's layout (weight_ih [G*H][1], weight_hh [G*H][H], bias_ih, bias_hh); the head as above.</summary>
    TorchWeights(int h, int g, const float* wi, const float* wh, const float* bi, const float* bh) : TorchWeights(h, g)
    {
        wIh.assign(wi, wi + g * h);
        wHh.assign(wh, wh + g * h * h);
        bIh.assign(bi, bi + g * h);
        bHh.assign(bh, bh + g * h);
    }
};

/// <summary>One model behind the C API; Run is the whole per-block loop so the per-sample step inlines.</summary>
struct Model
{
    virtual ~Model() = default;
    virtual void Run(const float* x, float* y, int n) = 0;
    virtual float RunLayer(const float* x, int n) = 0;
    virtual void Hidden(float* h) const = 0;
    virtual bool Load(const TorchWeights& w) = 0;
    virtual void Reset() = 0;
};

/// <summary>Rnn (LSTMLayerT / GRULayerT, 1→H, G gate blocks) then DenseT(H→1): ModelT's forward for in_size 1.</summary>
template <typename Rnn, int H, int G>
struct Net final : Model
{
    Rnn rnn;
    RTNeural::DenseT<float, H, 1> dense;

    explicit Net(const TorchWeights& w)
    {
        LoadRnn(w);
        dense.setWeights(std::vector<std::vector<float>> { w.head });
        const float bias = 0.1f;
        dense.setBias(&bias);
        Reset();
    }

    void Run(const float* x, float* y, int n) override
    {
        for (int s = 0; s < n; s++)
        {
            // ModelT::forward: the input into the first layer's input vector; layer 0 forward; layer 1 forward(layer 0 outs).
            Step(x[s]);
            dense.forward(rnn.outs);
            y[s] = HeadOutput();
        }
    }

    /// <summary>The recurrent layer alone, one sample per forward call (for tables whose peers run no head).</summary>
    float RunLayer(const float* x, int n) override
    {
        for (int s = 0; s < n; s++)
            Step(x[s]);
        return FirstHidden();
    }

#if RTNEURAL_USE_EIGEN
    // ModelT (Eigen): v_ins = vec_type::Constant(input[0]); the output is the last layer's outs(0).
    void Step(float x) { rnn.forward(Eigen::Matrix<float, 1, 1>::Constant(x)); }
    float HeadOutput() { return dense.outs(0); }
    float FirstHidden() const { return rnn.outs(0); }

    void Hidden(float* h) const override
    {
        for (int j = 0; j < H; j++) h[j] = rnn.outs(j);
    }
#else
    // ModelT (xsimd): v_ins[0] = (v_type)input[0]; the last layer's outs stored (aligned) into the model's outs array.
    using v_type = xsimd::simd_type<float>;
    static constexpr int Lanes = (int)v_type::size;
    alignas(RTNEURAL_DEFAULT_ALIGNMENT) float out[Lanes] {};

    void Step(float x)
    {
        const v_type ins[1] = { (v_type)x };
        rnn.forward(ins);
    }

    float FirstHidden() const { return rnn.outs[0].get(0); }

    float HeadOutput()
    {
        xsimd::store_aligned(out, dense.outs[0]);
        return out[0];
    }

    void Hidden(float* h) const override
    {
        alignas(RTNEURAL_DEFAULT_ALIGNMENT) float lanes[Lanes];
        for (int j = 0; j < H; j++)
        {
            if (j % Lanes == 0) xsimd::store_aligned(lanes, rnn.outs[j / Lanes]);
            h[j] = lanes[j % Lanes];
        }
    }
#endif

    bool Load(const TorchWeights& w) override
    {
        if (w.H != H || w.G != G) return false;
        LoadRnn(w);
        Reset();
        return true;
    }

    void Reset() override { rnn.reset(); dense.reset(); }

private:
    // RTNeural takes Keras layout: kernel [in][G*H], recurrent [H][G*H] (transposes of PyTorch's).
    // LSTM: same gate order as PyTorch (i, f, g/c, o), one bias = b_ih + b_hh.
    // GRU: gate order z, r, c (PyTorch: r, z, n) and two bias rows [b_ih, b_hh]; RTNeural's GRULayerT computes
    // c = tanh(W_c x + b_ih_c + r * (U_c h + b_hh_c)), i.e. PyTorch's formula with b_hn inside r.
    static int TorchBlock(int g) { return G == 3 && g < 2 ? 1 - g : g; } // RTNeural block g <- PyTorch block

    void LoadRnn(const TorchWeights& w)
    {
        std::vector<std::vector<float>> kernel(1, std::vector<float>(G * H)), recurrent(H, std::vector<float>(G * H));
        std::vector<std::vector<float>> bias2(2, std::vector<float>(G * H));
        for (int g = 0; g < G; g++)
            for (int k = 0; k < H; k++)
            {
                int dst = g * H + k, src = TorchBlock(g) * H + k;
                kernel[0][dst] = w.wIh[src];
                for (int j = 0; j < H; j++) recurrent[j][dst] = w.wHh[src * H + j];
                bias2[0][dst] = w.bIh[src];
                bias2[1][dst] = w.bHh[src];
            }
        rnn.setWVals(kernel);
        rnn.setUVals(recurrent);
        if constexpr (G == 3) rnn.setBVals(bias2);
        else
        {
            std::vector<float> bias(G * H);
            for (int k = 0; k < G * H; k++) bias[k] = bias2[0][k] + bias2[1][k];
            rnn.setBVals(bias);
        }
    }
};

/// <summary>Hidden size and gate count of a case name, as in Probe.cs ("cellH" LSTM, "grucell" GRU 32); H 0 if unknown.</summary>
void Shape(const char* name, int& hidden, int& gates)
{
    hidden = 0; gates = 4;
    if (!std::strcmp(name, "grucell")) { hidden = 32; gates = 3; }
    else if (!std::strcmp(name, "cell12")) hidden = 12;
    else if (!std::strcmp(name, "cell16")) hidden = 16;
    else if (!std::strcmp(name, "cell24")) hidden = 24;
    else if (!std::strcmp(name, "cell32")) hidden = 32;
}

Model* Make(const char* name)
{
    int h, g;
    Shape(name, h, g);
    switch (g == 3 ? -h : h)
    {
        case 12: return new Net<RTNeural::LSTMLayerT<float, 1, 12>, 12, 4>(TorchWeights(12, 4));
        case 16: return new Net<RTNeural::LSTMLayerT<float, 1, 16>, 16, 4>(TorchWeights(16, 4));
        case 24: return new Net<RTNeural::LSTMLayerT<float, 1, 24>, 24, 4>(TorchWeights(24, 4));
        case 32: return new Net<RTNeural::LSTMLayerT<float, 1, 32>, 32, 4>(TorchWeights(32, 4));
        case -32: return new Net<RTNeural::GRULayerT<float, 1, 32>, 32, 3>(TorchWeights(32, 3));
        default: return nullptr;
    }
}

double Sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

/// <summary>PyTorch's nn.LSTM / nn.GRU step and nn.Linear head in double, straight from the documented formulas.</summary>
void Reference(const TorchWeights& w, const float* x, double* y, int n)
{
    const int H = w.H;
    std::vector<double> h(H, 0.0), c(H, 0.0), pre(w.G * H), hn(w.G * H), next(H);
    for (int s = 0; s < n; s++)
    {
        for (int r = 0; r < w.G * H; r++)
        {
            double acc = 0.0;
            for (int j = 0; j < H; j++) acc += (double)w.wHh[r * H + j] * h[j];
            pre[r] = (double)w.wIh[r] * x[s] + w.bIh[r]; // input part, with b_ih
            hn[r] = acc + w.bHh[r];                       // hidden part, with b_hh
        }
        for (int k = 0; k < H; k++)
        {
            if (w.G == 4) // i, f, g, o
            {
                double i = Sigmoid(pre[k] + hn[k]), f = Sigmoid(pre[H + k] + hn[H + k]);
                double g = std::tanh(pre[2 * H + k] + hn[2 * H + k]), o = Sigmoid(pre[3 * H + k] + hn[3 * H + k]);
                c[k] = f * c[k] + i * g;
                next[k] = o * std::tanh(c[k]);
            }
            else // r, z, n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) n + z h
            {
                double r = Sigmoid(pre[k] + hn[k]), z = Sigmoid(pre[H + k] + hn[H + k]);
                double nn = std::tanh(pre[2 * H + k] + r * hn[2 * H + k]);
                next[k] = (1.0 - z) * nn + z * h[k];
            }
        }
        h = next;
        double out = 0.1;
        for (int j = 0; j < H; j++) out += (double)w.head[j] * h[j];
        y[s] = out;
    }
}
} // namespace

extern "C" {

/// <summary>A new model for a case name ("cell12", "cell16", "cell24", "cell32", "grucell"), state zero; null if unknown.</summary>
__attribute__((visibility("default"))) void* rtn_make(const char* name) { return Make(name); }

/// <summary>y[s] = model.forward(&x[s]) for s in 0..n-1, one sample per call, state carried across calls; returns y[0].</summary>
__attribute__((visibility("default"))) float rtn_run(void* model, const float* x, float* y, int n)
{
    static_cast<Model*>(model)->Run(x, y, n);
    return y[0];
}

/// <summary>
/// Loads recurrent weights in PyTorch's layout (weight_ih [gates*hidden][1], weight_hh [gates*hidden][hidden], bias_ih,
/// bias_hh; gates 4 for an LSTM, 3 for a GRU) and zeroes the state; returns 0, or 1 where the model has other sizes.
/// </summary>
__attribute__((visibility("default"))) int rtn_load(void* model, int hidden, int gates, const float* wIh, const float* wHh, const float* bIh, const float* bHh)
{
    return static_cast<Model*>(model)->Load(TorchWeights(hidden, gates, wIh, wHh, bIh, bHh)) ? 0 : 1;
}

/// <summary>The recurrent layer alone over x[0..n-1], one sample per forward call, state carried; returns the last h[0].</summary>
__attribute__((visibility("default"))) float rtn_run_layer(void* model, const float* x, int n) { return static_cast<Model*>(model)->RunLayer(x, n); }

/// <summary>Copies the recurrent layer's h (hidden floats).</summary>
__attribute__((visibility("default"))) void rtn_hidden(void* model, float* h) { static_cast<Model*>(model)->Hidden(h); }

/// <summary>Zeroes the recurrent state.</summary>
__attribute__((visibility("default"))) void rtn_reset(void* model) { static_cast<Model*>(model)->Reset(); }

__attribute__((visibility("default"))) void rtn_free(void* model) { delete static_cast<Model*>(model); }

/// <summary>
/// 200 samples of a sine through the RTNeural model and through the double-precision PyTorch formula above with the same
/// weights; prints the max |diff| to stderr and returns 0 if it is below 1e-4, else 1 (also for an unknown name).
/// </summary>
__attribute__((visibility("default"))) int rtn_selfcheck(const char* name)
{
    int hidden, gates;
    Shape(name, hidden, gates);
    Model* model = Make(name);
    if (!model) { std::fprintf(stderr, "rtn_selfcheck: unknown case %s\n", name); return 1; }
    const int n = 200;
    float x[n], y[n];
    double ref[n];
    for (int s = 0; s < n; s++) x[s] = std::sin(s * 0.37f);
    model->Run(x, y, n);
    delete model;
    Reference(TorchWeights(hidden, gates), x, ref, n);
    double maxDiff = 0.0;
    for (int s = 0; s < n; s++) maxDiff = std::fmax(maxDiff, std::fabs(y[s] - ref[s]));
    std::fprintf(stderr, "rtn_selfcheck %-8s max |RTNeural - PyTorch formula| over %d samples = %.3g\n", name, n, maxDiff);
    return maxDiff < 1e-4 ? 0 : 1;
}
}
