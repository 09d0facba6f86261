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
# One target's run; prints its summary line(s) and returns non-zero on a crash, a hang or a fuzzer that did not start.
fuzz_one() { # target
    local t=$1 out="findings/$1"
    rm -rf "$out"
    mkdir -p findings
    afl-fuzz -i "corpus/$t" -o "$out" -t 10000 -m none -V "$seconds" -- dotnet .build/Kvorum.Fuzz.dll run "$t" >"$out.log" 2>&1 || true
    local stats="$out/default/fuzzer_stats"
    if [ ! -f "$stats" ]; then
        echo "error: afl-fuzz did not start for $t; see fuzz/$out.log"
        tail -n 20 "$out.log"
        return 1
    fi
    local crashes hangs
    crashes=$(find "$out/default/crashes" -type f -name 'id:*' | wc -l)
    hangs=$(find "$out/default/hangs" -type f -name 'id:*' | wc -l)
    echo "$t: $(grep -E '^execs_done' "$stats" | tr -s ' '), $(grep -E '^corpus_count' "$stats" | tr -s ' '), crashes: $crashes, hangs: $hangs"
    [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ]
}

# KVORUM_FUZZ_JOBS targets at a time (default 1): each afl-fuzz is one process on one core, so CI, which has the
# machine to itself by then, runs two at once on its 2 cores and halves the pass.
jobs="${KVORUM_FUZZ_JOBS:-1}"
status=0
mkdir -p findings
pending=("${targets[@]}")
while [ ${#pending[@]} -gt 0 ]; do
    batch=("${pending[@]:0:$jobs}")
    pending=("${pending[@]:$jobs}")
    pids=()
    for t in "${batch[@]}"; do
        echo "fuzzing $t for ${seconds}s (findings in fuzz/findings/$t)"
        fuzz_one "$t" >"findings/.$t.summary" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || status=1
        sed 's/^/  /' "findings/.${batch[$i]}.summary"
        rm -f "findings/.${batch[$i]}.summary"
    done
done
exit $status
