// build.sh's check of librtneural_probe.so through its exported C API (as the C# harness sees it): every selfcheck,
// then with --smoke ~0.2 s of 64-sample blocks per case (a smoke test of the timing path, not a benchmark).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

extern "C" {
void* rtn_make(const char* name);
float rtn_run(void* model, const float* x, float* y, int n);
void rtn_reset(void* model);
void rtn_free(void* model);
int rtn_selfcheck(const char* name);
}

int main(int argc, char** argv)
{
    const char* names[] = { "cell12", "cell16", "cell24", "cell32", "grucell" };
    int failed = rtn_make("nosuchcase") != nullptr;
    for (const char* name : names) failed += rtn_selfcheck(name);
    if (failed) { std::fprintf(stderr, "%d check(s) FAILED\n", failed); return 1; }
    if (argc > 1 && !std::strcmp(argv[1], "--smoke"))
        for (const char* name : names)
        {
            void* m = rtn_make(name);
            float x[64], y[64], sink = 0;
            for (int i = 0; i < 64; i++) x[i] = std::sin(i * 0.37f);
            using clock = std::chrono::steady_clock;
            long blocks = 0;
            auto start = clock::now();
            while (clock::now() - start < std::chrono::milliseconds(200))
                for (int b = 0; b < 100; b++, blocks++) sink += rtn_run(m, x, y, 64);
            double ns = std::chrono::duration<double, std::nano>(clock::now() - start).count();
            std::printf("smoke %-8s %6.1f ns/sample (%ld samples, sink %g)\n", name, ns / (blocks * 64.0), blocks * 64, sink);
            rtn_reset(m);
            rtn_free(m);
        }
    return 0;
}
