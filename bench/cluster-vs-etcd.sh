#!/usr/bin/env bash
# Kvorum vs etcd: 3-member cluster on loopback, same load generator (the Release `kvorum bench`).
#
# For SYSTEM in kvorum etcd: start 3 members (client ports 2379/22379/32379, peer ports
# 2380/22380/32380, data under a mktemp dir, default durability = fsync on every write,
# heartbeat 100 ms, election timeout 1000 ms), wait until `etcdctl endpoint status` answers on all
# three, find the leader, then benchmark against the leader's endpoint:
#   put   at 1, 16, 64, 256 clients (conns = min(clients, 16)), 256-byte values, 100,000 keys, 10 s
#   range linearizable and serializable at 64 clients (16 conns), 10 s
# For every run it records the servers' CPU time (utime+stime from /proc/PID/stat, summed over the
# 3 members, divided by the successful operations) and each member's VmRSS after the run.
# Prints one table at the end, then the raw JSON summaries. Stops each cluster before the next.
#
# Usage: bench/cluster-vs-etcd.sh [kvorum|etcd ...]      (default: kvorum etcd)
# Every run first sends the same load for WARMUP unmeasured; the CPU time counts only the measured part. The load
# generator and Kvorum's members are .NET processes whose tiered JIT goes on recompiling hot paths for some 20-30 s
# after they start (a perf profile 14-22 s after a start found 17% of the machine's CPU in the JIT), so the default
# of 10 s measures both systems warm; etcd is compiled ahead of time and gains nothing from it.
# Env:   DURATION (10s), WARMUP (10s), KVORUM_DLL (Release build), ETCD (/usr/bin/etcd), ETCDCTL (/usr/bin/etcdctl),
#        PUT_CLIENTS ("1 16 64 256"), RANGE_CLIENTS (64), KEEP_RESULTS=dir (copy raw results there)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-10s}"
KVORUM_DLL="${KVORUM_DLL:-$ROOT/src/Kvorum.Cli/bin/Release/net10.0/kvorum.dll}"
ETCD="${ETCD:-/usr/bin/etcd}"
ETCDCTL="${ETCDCTL:-/usr/bin/etcdctl}"
PUT_CLIENTS="${PUT_CLIENTS:-1 16 64 256}"
RANGE_CLIENTS="${RANGE_CLIENTS:-64}"
SYSTEMS=("$@")
[ ${#SYSTEMS[@]} -eq 0 ] && SYSTEMS=(kvorum etcd)

NAMES=(m1 m2 m3)
CLIENT_PORTS=(2379 22379 32379)
PEER_PORTS=(2380 22380 32380)
ENDPOINTS="127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379"
INITIAL_CLUSTER="m1=http://127.0.0.1:2380,m2=http://127.0.0.1:22380,m3=http://127.0.0.1:32380"
CLK_TCK="$(getconf CLK_TCK)"
export ETCDCTL_API=3

WORK="$(mktemp -d /tmp/kvorum-vs-etcd.XXXXXX)"
RESULTS="$WORK/results.tsv"
PIDS=()

stop_cluster() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

cleanup() {
    stop_cluster
    if [ -n "${KEEP_RESULTS:-}" ]; then mkdir -p "$KEEP_RESULTS"; cp "$WORK"/*.json "$WORK"/*.tsv "$WORK"/*.log "$KEEP_RESULTS"/ 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "${CLIENT_PORTS[@]}" "${PEER_PORTS[@]}"; do
    if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is in use" >&2; exit 1; fi
done
if [ ! -f "$KVORUM_DLL" ]; then
    (cd "$ROOT" && dotnet build -c Release src/Kvorum.Cli -nologo -v quiet) >&2
fi

start_member() { # system index
    local system=$1 i=$2 name=${NAMES[$2]} cport=${CLIENT_PORTS[$2]} pport=${PEER_PORTS[$2]}
    local args=(--name "$name" --data-dir "$WORK/$system-$name"
        --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport"
        --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport"
        --initial-cluster "$INITIAL_CLUSTER" --initial-cluster-state new
        --initial-cluster-token "bench-$system" --heartbeat-interval 100 --election-timeout 1000)
    case $system in
        kvorum) dotnet "$KVORUM_DLL" serve "${args[@]}" >"$WORK/$system-$name.log" 2>&1 & ;;
        etcd)   "$ETCD" "${args[@]}" >"$WORK/$system-$name.log" 2>&1 & ;;
    esac
    PIDS[$i]=$!
}

wait_healthy() {
    for _ in $(seq 120); do
        local json
        if json="$("$ETCDCTL" --endpoints "$ENDPOINTS" --dial-timeout 1s --command-timeout 2s endpoint status -w json 2>/dev/null)" \
            && [ "$(jq 'length' <<<"$json")" = 3 ] \
            && [ "$(jq '[.[] | select(.Status.leader != 0 and .Status.leader != null)] | length' <<<"$json")" = 3 ]; then
            return 0
        fi
        sleep 0.5
    done
    echo "cluster did not become healthy" >&2
    return 1
}

leader_endpoint() {
    "$ETCDCTL" --endpoints "$ENDPOINTS" endpoint status -w json \
        | jq -r '.[] | select(.Status.header.member_id == .Status.leader) | .Endpoint' | head -1 | sed 's#^http://##'
}

cpu_ticks() { # sum of utime+stime over the cluster's processes
    local total=0 pid fields
    for pid in "${PIDS[@]}"; do
        fields="$(sed 's/^.*) //' "/proc/$pid/stat")"   # fields from 3 (state) on
        set -- $fields
        total=$(( total + ${12} + ${13} ))              # utime (14) + stime (15)
    done
    echo "$total"
}

rss_list() { # "m1/m2/m3" in MiB
    local out="" pid kb
    for pid in "${PIDS[@]}"; do
        kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
        out+="${out:+/}$(( (kb + 512) / 1024 ))"
    done
    echo "$out"
}

run_bench() { # system leader kind clients [consistency]
    local system=$1 leader=$2 kind=$3 clients=$4 consistency=${5:-}
    local conns=$(( clients < 16 ? clients : 16 ))
    local tag="$system-$kind${consistency:+-$consistency}-$clients"
    local extra=()
    [ -n "$consistency" ] && extra=(--consistency "$consistency")
    local before after json
    # The warm-up runs in the same process as the measurement; CPU is sampled once it reports its end.
    dotnet "$KVORUM_DLL" bench "$kind" --endpoints "$leader" --clients "$clients" --conns "$conns" \
        --warmup "$WARMUP" --duration "$DURATION" --key-space 100000 --value-size 256 "${extra[@]}" -w json \
        >"$WORK/$tag.json" 2>"$WORK/$tag.bench.log" &
    local bench=$!
    until grep -q "warm-up done" "$WORK/$tag.bench.log" 2>/dev/null || ! kill -0 "$bench" 2>/dev/null; do sleep 0.05; done
    before="$(cpu_ticks)"
    wait "$bench"
    after="$(cpu_ticks)"
    json="$(cat "$WORK/$tag.json")"
    local ops cpu_us
    ops="$(jq '.succeeded' <<<"$json")"
    cpu_us="$(awk -v t=$(( after - before )) -v hz="$CLK_TCK" -v n="$ops" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$system" "$kind${consistency:+ $consistency}" "$clients" "$conns" \
        "$(jq '.throughput_ops_s | floor' <<<"$json")" "$(jq '.latency_ms.p50' <<<"$json")" "$(jq '.latency_ms.p99' <<<"$json")" \
        "$(jq '.latency_ms["p99.9"]' <<<"$json")" "$(jq '.errors' <<<"$json")" "$cpu_us" "$(rss_list)" >>"$RESULTS"
    echo "  $tag: $(jq -c '{throughput_ops_s, p99: .latency_ms.p99, errors}' <<<"$json")" >&2
}

: >"$RESULTS"
echo "uptime: $(uptime)" >&2
for system in "${SYSTEMS[@]}"; do
    echo "== $system: starting 3 members" >&2
    for i in 0 1 2; do start_member "$system" "$i"; done
    wait_healthy
    leader="$(leader_endpoint)"
    echo "== $system: leader $leader (pids ${PIDS[*]}); uptime: $(uptime)" >&2
    for c in $PUT_CLIENTS; do run_bench "$system" "$leader" put "$c"; done
    if [ "$system" = etcd ]; then   # etcd 3.4 quirk: grant one lease before the read benchmarks
        "$ETCDCTL" --endpoints "$leader" lease grant 600 >/dev/null
    fi
    for c in $RANGE_CLIENTS; do
        run_bench "$system" "$leader" range "$c" l
        run_bench "$system" "$leader" range "$c" s
    done
    stop_cluster
done

echo
{
    printf 'system\tworkload\tclients\tconns\tops/s\tp50_ms\tp99_ms\tp99.9_ms\terrors\tcpu_us/op\trss_MiB(m1/m2/m3)\n'
    cat "$RESULTS"
} | column -t -s $'\t'
echo
for f in "$WORK"/*.json; do echo "$(basename "$f" .json) $(jq -c . "$f")"; done
