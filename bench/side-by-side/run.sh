#!/usr/bin/env bash
# Commits compared side by side in one process (see harness/Program.cs): per-sample times of the streaming cases.
#   bench/side-by-side/run.sh <cases> <seconds per case> <commit or path>...
#   e.g. bench/side-by-side/run.sh cell12,cell32,seq12,block12,grucell,big 4 HEAD 3993f69
# cases: cellH, seqH, blockH (H = 12, 16, 24, 32), grucell, grublock, big, big2 (big on two threads, where the build
# has Parallelism); "block12+cell12" interleaves both
# workloads of every build in one row (compare them there, not across rows). A commit is checked out in a temporary
# worktree; a path is used as it is (a checkout with local changes); a .so is a native peer built by
# bench/rtneural/build.sh (RTNeural), which runs the per-sample cases (cellH, grucell) only. The first argument after the
# seconds is the build the ratios are taken against. Each probe build takes ~20 s; runs are sequential, nothing else should run.
# The harness runs twice, the builds named in the given order and then reversed (the build named first can read up to
# ~15% slower in every row), and prints both runs and then their geometric means; ORDERS=1 runs the given order only.
# SOLO=n instead runs each build alone in its own process, n rounds (the builds in the given order, then reversed, in
# turn), and prints per row the range and median of each build's p10s: for `big`, whose ~1 MB of weights share the L2
# with whatever else runs in the process, and whose time moves by ±12% from one process to the next.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cases=$1; seconds=$2; shift 2
work=$(mktemp -d)
worktrees=()
cleanup() { for w in "${worktrees[@]}"; do git -C "$repo" worktree remove --force "$w" >/dev/null 2>&1 || true; done; rm -rf "$work"; }
trap cleanup EXIT
builds=()
i=0
for spec in "$@"; do
  # A native peer (bench/rtneural/build.sh's librtneural_probe.so) is timed as it is, in the cases it has.
  # Named after the library: rtneural_probe (Eigen), rtneural_probe_xsimd.
  if [[ "$spec" == *.so ]]; then so=$(basename "$spec" .so); builds+=("${so#lib}=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")"); continue; fi
  if [ -d "$spec" ]; then checkout=$(cd "$spec" && pwd); name=$(basename "$checkout")
  else
    checkout="$work/checkout$i"; name=$(git -C "$repo" rev-parse --short "$spec")
    git -C "$repo" worktree add --detach "$checkout" "$spec" >/dev/null
    worktrees+=("$checkout")
  fi
  probe="$work/probe$i"; mkdir -p "$probe"; cp "$here/Probe.cs" "$probe/"
  cat > "$probe/Probe.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>disable</Nullable>
    <NoWarn>\$(NoWarn);CS1591</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$checkout/runtime/RnnGen.Runtime/RnnGen.Runtime.csproj" />
    <ProjectReference Include="$checkout/generator/RnnGen.Generator/RnnGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
XML
  dotnet build "$probe/Probe.csproj" -c Release -nologo -v q -o "$probe/out" > "$probe/build.log" 2>&1 || { cat "$probe/build.log"; exit 1; }
  builds+=("$name=$probe/out/Probe.dll")
  i=$((i + 1))
done
dotnet build "$here/harness/Harness.csproj" -c Release -nologo -v q -o "$work/harness" > "$work/harness.log" 2>&1 || { cat "$work/harness.log"; exit 1; }
dotnet build-server shutdown >/dev/null 2>&1 || true
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%FT%TZ)"
if [ "${SOLO:-0}" -gt 0 ]; then
  outputs=()
  for ((round = 1; round <= SOLO; round++)); do
    for ((k = 0; k < ${#builds[@]}; k++)); do
      b=$(( round % 2 == 1 ? k : ${#builds[@]} - 1 - k ))
      out="$work/solo_$(printf %03d "$round")_$k.txt"
      # Each run shown as it ends; a run that fails is reported and left out, the others still count.
      if dotnet "$work/harness/Harness.dll" "$cases" "$seconds" "${builds[b]}" > "$out"; then
        cat "$out"; outputs+=("$out")
      else
        echo "round $round, ${builds[b]%%=*}: the harness failed (exit $?); left out" >&2
      fi
    done
  done
  dotnet "$work/harness/Harness.dll" --medians "${outputs[@]}"
  exit 0
fi
dotnet "$work/harness/Harness.dll" "$cases" "$seconds" "${builds[@]}" | tee "$work/run1.txt"
if [ "${ORDERS:-2}" != 1 ] && [ ${#builds[@]} -gt 1 ]; then
  reversed=(); for ((k = ${#builds[@]} - 1; k >= 0; k--)); do reversed+=("${builds[k]}"); done
  echo "the same, the builds named in the reverse order:"
  dotnet "$work/harness/Harness.dll" "$cases" "$seconds" "${reversed[@]}" | tee "$work/run2.txt"
  dotnet "$work/harness/Harness.dll" --merge "$work/run1.txt" "$work/run2.txt"
fi
