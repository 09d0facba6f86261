#!/usr/bin/env bash
# Fuzzes one decoder with afl-fuzz for a bounded time: fuzz/run.sh TARGET [SECONDS], or `all` for every target in
# turn (SECONDS each). Builds the harness, instruments the Kvorum assemblies with SharpFuzz, starts from
# fuzz/corpus/TARGET and writes what it finds to fuzz/findings/TARGET (crashes/, hangs/; replay one with
#   dotnet fuzz/.build/Kvorum.Fuzz.dll replay TARGET FILE).
# Needs Debian's afl++ (apt-get install afl++); installs the SharpFuzz tool into fuzz/.tools.
set -euo pipefail
cd "$(dirname "$0")"

target="${1:-}"
seconds="${2:-300}"
if [ -z "$target" ]; then
    echo "usage: fuzz/run.sh TARGET|all [SECONDS]" >&2
    exit 2
fi
if ! command -v afl-fuzz >/dev/null 2>&1; then
    echo "error: afl-fuzz is missing; install it with: apt-get install afl++" >&2
    exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ ! -x .tools/sharpfuzz ]; then
    dotnet tool install --tool-path .tools SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

# A build of its own: instrumentation rewrites the assemblies in place, which must not touch the normal build.
dotnet build Kvorum.Fuzz/Kvorum.Fuzz.csproj -c Release -m:1 -o .build -p:UseAppHost=false >/dev/null
for assembly in Kvorum.Raft Kvorum.Storage Kvorum.Etcd Kvorum.Server; do
    .tools/sharpfuzz ".build/$assembly.dll" >/dev/null
done

targets=("$target")
if [ "$target" = all ]; then
    mapfile -t targets < <(dotnet .build/Kvorum.Fuzz.dll list)
elif ! dotnet .build/Kvorum.Fuzz.dll list | grep -qx "$target"; then
    echo "error: unknown target $target; one of: $(dotnet .build/Kvorum.Fuzz.dll list | tr '\n' ' ')" >&2
    exit 2
fi

# The machine is not tuned for afl-fuzz (CPU governor, core pattern): run anyway, on any core.
# dotnet itself is not instrumented (the Kvorum assemblies are), so afl-fuzz must not check the binary.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
status=0
for t in "${targets[@]}"; do
    out="findings/$t"
    rm -rf "$out"
    mkdir -p findings
    echo "fuzzing $t for ${seconds}s (findings in fuzz/$out)"
    # -t: a .NET start is slow, so a generous per-input time; -m none: the runtime reserves a large address space.
    afl-fuzz -i "corpus/$t" -o "$out" -t 10000 -m none -V "$seconds" -- dotnet .build/Kvorum.Fuzz.dll run "$t" >"$out.log" 2>&1 || true
    stats="$out/default/fuzzer_stats"
    if [ ! -f "$stats" ]; then
        echo "error: afl-fuzz did not start for $t; see fuzz/$out.log" >&2
        tail -n 20 "$out.log" >&2
        status=1
        continue
    fi
    crashes=$(find "$out/default/crashes" -type f -name 'id:*' | wc -l)
    hangs=$(find "$out/default/hangs" -type f -name 'id:*' | wc -l)
    echo "  $(grep -E '^execs_done' "$stats" | tr -s ' '), $(grep -E '^corpus_count' "$stats" | tr -s ' '), crashes: $crashes, hangs: $hangs"
    [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ] || status=1
done
exit $status
