#!/usr/bin/env bash
# Builds the RTNeural peer for the streaming benchmarks: a shared library from Probe.cpp (our code) plus RTNeural's
# headers, for our C# harness to call through P/Invoke, and runs its selfchecks (RTNeural vs PyTorch's LSTM/GRU formula)
# through the built library's C API (check.cpp).
#   bench/rtneural/build.sh <path-to-RTNeural-checkout> [out-dir, default bench/rtneural/bin] [eigen | xsimd <xsimd include dir>]
# Eigen (the default) gives librtneural_probe.so; xsimd gives librtneural_probe_xsimd.so (both may sit in one out-dir).
# RTNeural (BSD-3-Clause) is not vendored here and nothing is installed by this script. Get it with
#   git clone --recursive https://github.com/jatinchowdhury18/RTNeural
# and Eigen from the system (Debian: apt-get install libeigen3-dev, 3.4.0) or RTNeural's own modules/Eigen; xsimd from
# RTNeural's modules/xsimd (give <checkout>/modules/xsimd/include) or any xsimd ≥ 9 (Debian 12's 8.1 lacks reduce_add).
# Flags: g++ -O3 -march=native, as RTNeural's README recommends and as the issue measured it ("its faster of the Eigen
# and xsimd back ends"), with the defines RTNeural's CMake sets: RTNEURAL_USE_EIGEN=1 or RTNEURAL_USE_XSIMD=1,
# RTNEURAL_NAMESPACE=RTNeural, and RTNEURAL_DEFAULT_ALIGNMENT 32 for Eigen (AVX) and 64 for xsimd, whose -march=native
# batches are 512-bit on an AVX-512 machine (RTNeural's aligned stores need the batch's alignment).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "${1:?usage: build.sh <path-to-RTNeural-checkout> [out-dir] [eigen | xsimd <xsimd include dir>]}" && pwd)
out=${2:-$here/bin}
backend=${3:-eigen}
mkdir -p "$out"
[ -f "$checkout/RTNeural/lstm/lstm.h" ] || { echo "no RTNeural/lstm/lstm.h under $checkout" >&2; exit 1; }
case "$backend" in
  eigen)
    eigen=/usr/include/eigen3
    [ -d "$eigen/Eigen" ] || eigen=$checkout/modules/Eigen
    [ -f "$checkout/RTNeural/lstm/lstm_eigen.h" ] || { echo "no RTNeural/lstm/lstm_eigen.h under $checkout" >&2; exit 1; }
    [ -d "$eigen/Eigen" ] || { echo "no Eigen: apt-get install libeigen3-dev, or a checkout with modules/Eigen" >&2; exit 1; }
    name=rtneural_probe
    flags=(-DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_DEFAULT_ALIGNMENT=32 -isystem "$eigen")
    ;;
  xsimd)
    xsimd=$(cd "${4:?xsimd needs the include dir that holds xsimd/xsimd.hpp}" && pwd)
    [ -f "$xsimd/xsimd/xsimd.hpp" ] || { echo "no xsimd/xsimd.hpp under $xsimd" >&2; exit 1; }
    [ -f "$checkout/RTNeural/lstm/lstm_xsimd.h" ] || { echo "no RTNeural/lstm/lstm_xsimd.h under $checkout" >&2; exit 1; }
    name=rtneural_probe_xsimd
    flags=(-DRTNEURAL_USE_XSIMD=1 -DRTNEURAL_DEFAULT_ALIGNMENT=64 -isystem "$xsimd")
    # Some copies of RTNeural include the bundled xsimd by relative path ("../modules/xsimd/xsimd.hpp" in common.h,
    # "../../modules/xsimd/xsimd.hpp" in dense/dense_xsimd.h): where the checkout has no modules/xsimd, give those
    # includes the same headers (quoted includes fall back to the -iquote directories, one and two levels below the shim).
    if [ ! -f "$checkout/modules/xsimd/xsimd.hpp" ] && grep -rqs '"\(\.\./\)*modules/xsimd/xsimd.hpp"' "$checkout/RTNeural"; then
      shim=$(mktemp -d); trap 'rm -rf "$shim"' EXIT
      mkdir -p "$shim/modules" "$shim/inc/inc"; ln -s "$xsimd/xsimd" "$shim/modules/xsimd"
      flags+=(-iquote "$shim/inc" -iquote "$shim/inc/inc")
    fi
    ;;
  *) echo "backend must be eigen or xsimd, not $backend" >&2; exit 1 ;;
esac
set -x
g++ -O3 -march=native -std=c++17 -shared -fPIC -fvisibility=hidden \
  "${flags[@]}" -DRTNEURAL_NAMESPACE=RTNeural \
  -isystem "$checkout" "$here/Probe.cpp" -o "$out/lib$name.so"
g++ -O2 -std=c++17 -Wall "$here/check.cpp" -L"$out" -l$name -Wl,-rpath,'$ORIGIN' -o "$out/${name}_check"
"$out/${name}_check" || { set +x; echo "RTNeural probe SELFCHECK FAILED (see above)" >&2; exit 1; }
{ set +x; } 2>/dev/null
echo "built $out/lib$name.so; selfchecks passed (\"$out/${name}_check --smoke\" times each case ~0.2 s)"
