#!/usr/bin/env bash
# Builds the RTNeural peer for the streaming benchmarks: librtneural_probe.so from Probe.cpp (our code) plus RTNeural's
# headers, for our C# harness to call through P/Invoke, and runs its selfchecks (RTNeural vs PyTorch's LSTM/GRU formula)
# through the built library's C API (check.cpp).
#   bench/rtneural/build.sh <path-to-RTNeural-checkout> [out-dir, default bench/rtneural/bin]
# RTNeural (BSD-3-Clause) is not vendored here and nothing is installed by this script. Get it with
#   git clone https://github.com/jatinchowdhury18/RTNeural
# and Eigen from the system (Debian: apt-get install libeigen3-dev, 3.4.0), or RTNeural's own modules/Eigen.
# Flags: g++ -O3 -march=native, as RTNeural's README recommends and as the issue measured it ("its faster of the Eigen
# and xsimd back ends": Eigen here), with the defines RTNeural's CMake sets: RTNEURAL_USE_EIGEN=1,
# RTNEURAL_DEFAULT_ALIGNMENT=32 (AVX), RTNEURAL_NAMESPACE=RTNeural.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "${1:?usage: build.sh <path-to-RTNeural-checkout> [out-dir]}" && pwd)
out=${2:-$here/bin}
mkdir -p "$out"
eigen=/usr/include/eigen3
[ -d "$eigen/Eigen" ] || eigen=$checkout/modules/Eigen
[ -f "$checkout/RTNeural/lstm/lstm_eigen.h" ] || { echo "no RTNeural/lstm/lstm_eigen.h under $checkout" >&2; exit 1; }
[ -d "$eigen/Eigen" ] || { echo "no Eigen: apt-get install libeigen3-dev, or a checkout with modules/Eigen" >&2; exit 1; }
set -x
g++ -O3 -march=native -std=c++17 -shared -fPIC -fvisibility=hidden \
  -DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_DEFAULT_ALIGNMENT=32 -DRTNEURAL_NAMESPACE=RTNeural \
  -isystem "$checkout" -isystem "$eigen" "$here/Probe.cpp" -o "$out/librtneural_probe.so"
g++ -O2 -std=c++17 -Wall "$here/check.cpp" -L"$out" -lrtneural_probe -Wl,-rpath,'$ORIGIN' -o "$out/rtneural_probe_check"
"$out/rtneural_probe_check" || { set +x; echo "RTNeural probe SELFCHECK FAILED (see above)" >&2; exit 1; }
{ set +x; } 2>/dev/null
echo "built $out/librtneural_probe.so; selfchecks passed (\"$out/rtneural_probe_check --smoke\" times each case ~0.2 s)"
