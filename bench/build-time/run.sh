#!/usr/bin/env bash
# The build time of a project that declares 24 modules (four shapes of each of the six kinds) against a checkout's
# generator and runtime, and the size of what the generator writes for them.
#   bench/build-time/run.sh [checkout, default this one] [rebuilds, default 5]
# One warm-up build (restore, the runtime and the generator, the JIT warming the compiler server), then full rebuilds
# of that project alone (--no-dependencies --no-incremental): the compiler, the generator and the generated code.
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$(dirname "$0")/Modules.cs" "$work/"
cat > "$work/Modules24.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$repo/runtime/RnnGen.Runtime/RnnGen.Runtime.csproj" />
    <ProjectReference Include="$repo/generator/RnnGen.Generator/RnnGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
XML
cd "$work"
dotnet build -c Release -nologo -v q > build.log 2>&1 || { cat build.log; exit 1; }
times=()
for ((i = 0; i < runs; i++)); do
  start=$(date +%s.%N)
  dotnet build -c Release -nologo -v q --no-restore --no-dependencies --no-incremental > build.log 2>&1 || { cat build.log; exit 1; }
  end=$(date +%s.%N)
  times+=("$(echo "$end - $start" | bc)")
done
generated=$(find obj -path '*RnnGen.Generator*' -name '*.g.cs')
echo "checkout: $repo ($(git -C "$repo" log --oneline -1))"
echo "rebuilds (s): ${times[*]}"
echo "generated: $(echo "$generated" | wc -l) files, $(cat $generated | wc -l) lines, $(cat $generated | wc -c) bytes"
echo "dll: $(stat -c %s bin/Release/net10.0/Modules24.dll) bytes"
