#!/usr/bin/env bash
# Kvorum vs etcd: 3-member clusters on loopback, same load generator (the Release `kvorum bench`).
#
# Starts a 3-member cluster of each SYSTEM (data under a mktemp dir, default durability = fsync on every write,
# heartbeat 100 ms, election timeout 1000 ms): the first system on client ports 2379/22379/32379 and peer ports
# 2380/22380/32380, the second on 2479/22479/32479 and 2480/22480/32480. Then, for each workload in turn, it
# benchmarks each system against its leader's endpoint, one system after the other, while the other cluster's
# processes are stopped (SIGSTOP), so that both systems of a pair are measured within a minute of each other:
#   put   at 1, 16, 64, 256 clients (conns = min(clients, 16)), 256-byte values, 100,000 keys, 10 s
#   range linearizable and serializable at 64 clients (16 conns), 10 s
#   lease-grant and lease-keepalive at 64 clients (16 conns), 10 s
#   watch: W watchers (1,000 and 10,000) on 10 streams per member over all 3 members, WATCH_KEYS keys, puts to the
#     leader at WATCH_PUT_RATE/s for DURATION; events/s, latency from each put's acknowledgement to each event,
#     missing events, and the members' VmRSS growth per idle watcher (sampled once all are open, before the puts)
#   watch at rising put rates: WATCH_RATE_WATCHERS watchers as above, puts at each of WATCH_RATES per second; a rate is
#     sustained when the puts kept within 5% of it, none failed and every event came; the last table gives, for the
#     highest rate etcd sustains and for each system's own highest, both systems' events/s and p99
#   memory per idle watcher: first thing after the clusters start (fresh members), the members' summed VmRSS with
#     IDLE_WATCHERS idle watchers open (held 5 s) minus their VmRSS with none, per watcher
#   put and range l at 64 clients again with IDLE_WATCHERS idle watchers open (0 for none)
# On a small shared machine the speed of the same work changes from one minute to the next, and a CPU-bound
# system follows it while a latency-bound one does not (docs/benchmarks.md): pairs measured minutes apart would
# compare the minutes as much as the systems. ROUNDS=N repeats the whole sequence N times, and then
# a last table gives, per workload, the median of the N pairs' ratios with the lowest and the highest.
# For every run it records the servers' CPU time (utime+stime from /proc/PID/stat, summed over the
# 3 members, divided by the successful operations), the load generator's own CPU per operation (client_us/op: on
# 2 cores it competes with the servers, more so for the faster system) and each member's VmRSS after the run.
# Prints one table of runs, one of ratios per pair, then the raw JSON summaries.
#
# Usage: bench/cluster-vs-etcd.sh [kvorum|etcd ...]      (default: kvorum etcd)
# Every run first sends the same load for WARMUP unmeasured; the CPU time counts only the measured part. The load
# generator and Kvorum's members are .NET processes whose tiered JIT goes on recompiling hot paths for a while after
# they start (how long, and what it costs: docs/benchmarks.md), so that by default both systems are measured warm;
# etcd is compiled ahead of time and gains nothing from it.
# Env:   DURATION (10s), WARMUP (10s), KVORUM_DLL (Release build), ETCD (/usr/bin/etcd), ETCDCTL (/usr/bin/etcdctl),
#        PUT_CLIENTS ("1 16 64 256"), RANGE_CLIENTS (64), LEASE_CLIENTS (64), WATCHERS ("1000 10000") (any set
#        empty for none), WATCH_PUT_RATE (500), WATCH_KEYS (100), IDLE_WATCHERS (10000), ROUNDS (1),
#        WATCH_RATES ("500 1000 2000 4000 8000") and WATCH_RATE_WATCHERS (1000) (WATCH_RATES empty for none),
#        WATCH_WARMUP (WARMUP; 0 for none: each watch run's unmeasured first part, its own watchers and keys),
#        IDLE_CONTROL (1: each put and range with idle watchers comes right after the same run without them, on
#        the same state; 0 for none), KEEP_RESULTS=dir (copy raw results there),
#        TLS=1 (both systems with https and mutual TLS on client and peer ports, the same etcd flags on both: a
#        throwaway CA and certificates made with openssl in the work dir; the load generator and etcdctl present a
#        client certificate)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-10s}"
KVORUM_DLL="${KVORUM_DLL:-$ROOT/src/Kvorum.Cli/bin/Release/net10.0/kvorum.dll}"
ETCD="${ETCD:-/usr/bin/etcd}"
ETCDCTL="${ETCDCTL:-/usr/bin/etcdctl}"
PUT_CLIENTS="${PUT_CLIENTS-1 16 64 256}"
RANGE_CLIENTS="${RANGE_CLIENTS-64}"
LEASE_CLIENTS="${LEASE_CLIENTS-64}"
WATCHERS="${WATCHERS-1000 10000}"
WATCH_PUT_RATE="${WATCH_PUT_RATE:-500}"
WATCH_KEYS="${WATCH_KEYS:-100}"
IDLE_WATCHERS="${IDLE_WATCHERS-10000}"
IDLE_CONTROL="${IDLE_CONTROL:-1}"
WATCH_RATES="${WATCH_RATES-500 1000 2000 4000 8000}"
WATCH_RATE_WATCHERS="${WATCH_RATE_WATCHERS:-1000}"
# Each watch run first runs the same watchers and puts unmeasured for this long (0 for none): a fresh Kvorum member
# otherwise compiles its watch path inside the measured seconds.
WATCH_WARMUP="${WATCH_WARMUP:-$WARMUP}"
WATCH_WARMUP_FLAG=()
if [ "$WATCH_WARMUP" != 0 ]; then WATCH_WARMUP_FLAG=(--warmup "$WATCH_WARMUP"); fi
TLS="${TLS:-}"
SYSTEMS=("$@")
[ ${#SYSTEMS[@]} -eq 0 ] && SYSTEMS=(kvorum etcd)

ROUNDS="${ROUNDS:-1}"
NAMES=(m1 m2 m3)
CLK_TCK="$(getconf CLK_TCK)"
export ETCDCTL_API=3

WORK="$(mktemp -d /tmp/kvorum-vs-etcd.XXXXXX)"
RESULTS="$WORK/results.tsv"
RATES="$WORK/rates.tsv"        # system rate puts/s events/s p99 sustained(0/1)
SCHEME=http
SERVER_TLS=()   # TLS flags of every member, the same for both systems (etcd's flags)
CLIENT_TLS=()   # etcdctl's and kvorum's client TLS flags
if [ -n "$TLS" ]; then
    # A throwaway CA and one certificate per member and for the client, with 127.0.0.1 in their names.
    tls="$WORK/tls"; mkdir -p "$tls"
    openssl ecparam -name prime256v1 -genkey -noout -out "$tls/ca-key.pem" 2>/dev/null
    openssl req -x509 -new -key "$tls/ca-key.pem" -subj "/CN=bench CA" -days 2 -out "$tls/ca.pem" 2>/dev/null
    for n in m1 m2 m3 client; do
        openssl ecparam -name prime256v1 -genkey -noout -out "$tls/$n-key.pem" 2>/dev/null
        openssl req -new -key "$tls/$n-key.pem" -subj "/CN=$n" -out "$tls/$n.csr" 2>/dev/null
        openssl x509 -req -in "$tls/$n.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial -days 2 -out "$tls/$n.pem" \
            -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n') 2>/dev/null
    done
    SCHEME=https
    # A longer dial timeout: it covers the TLS handshake, which a fresh .NET client on a busy machine can take seconds over.
    CLIENT_TLS=(--cacert "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client-key.pem" --dial-timeout 10s)
fi
member_tls() { # name
    [ -n "$TLS" ] || return 0
    local t="$WORK/tls"
    SERVER_TLS=(--cert-file "$t/$1.pem" --key-file "$t/$1-key.pem" --trusted-ca-file "$t/ca.pem" --client-cert-auth
        --peer-cert-file "$t/$1.pem" --peer-key-file "$t/$1-key.pem" --peer-trusted-ca-file "$t/ca.pem" --peer-client-cert-auth)
}
etcdctl_() { "$ETCDCTL" "${CLIENT_TLS[@]}" "$@"; }
kvorum_bench() { dotnet "$KVORUM_DLL" "${CLIENT_TLS[@]}" bench "$@"; }
# For `kvorum_bench_bg ... &` only: the background subshell becomes the load generator, so that `$!` is its pid and a
# kill stops it. Before, `kvorum_bench ... &` left `$!` naming the subshell, and killing it orphaned the generator:
# the idle watchers' holders stayed open through every later run.
kvorum_bench_bg() { exec dotnet "$KVORUM_DLL" "${CLIENT_TLS[@]}" bench "$@"; }

declare -A OFFSET     # system -> port offset (0, 100, ...)
declare -A MEMBERS    # system -> "pid pid pid"

client_port() { echo $(( (2379 + ${OFFSET[$1]}) + $2 * 10000 )); }   # system index
peer_port()   { echo $(( (2380 + ${OFFSET[$1]}) + $2 * 10000 )); }
endpoints()   { echo "127.0.0.1:$(client_port "$1" 0),127.0.0.1:$(client_port "$1" 1),127.0.0.1:$(client_port "$1" 2)"; }

stop_all() {
    local system pid
    for system in "${!MEMBERS[@]}"; do
        for pid in ${MEMBERS[$system]}; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
    done
    for system in "${!MEMBERS[@]}"; do
        for pid in ${MEMBERS[$system]}; do
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        done
    done
    MEMBERS=()
}

pause_cluster()  { local pid; for pid in ${MEMBERS[$1]}; do kill -STOP "$pid"; done; }
resume_cluster() { local pid; for pid in ${MEMBERS[$1]}; do kill -CONT "$pid"; done; }

cleanup() {
    stop_all
    if [ -n "${KEEP_RESULTS:-}" ]; then mkdir -p "$KEEP_RESULTS"; cp "$WORK"/*.json "$WORK"/*.tsv "$WORK"/*.log "$KEEP_RESULTS"/ 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

i=0
for system in "${SYSTEMS[@]}"; do
    case $system in kvorum|etcd) ;; *) echo "unknown system '$system' (kvorum or etcd)" >&2; exit 2 ;; esac
    [ -n "${OFFSET[$system]:-}" ] && { echo "system '$system' given twice" >&2; exit 2; }
    OFFSET[$system]=$(( i * 100 )); i=$(( i + 1 ))
    for m in 0 1 2; do
        for port in "$(client_port "$system" "$m")" "$(peer_port "$system" "$m")"; do
            if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is in use" >&2; exit 1; fi
        done
    done
done
if [ ! -f "$KVORUM_DLL" ]; then
    (cd "$ROOT" && dotnet build -c Release src/Kvorum.Cli -nologo -v quiet) >&2
fi

start_cluster() { # system
    local system=$1 m name cport pport pids=""
    local initial="m1=$SCHEME://127.0.0.1:$(peer_port "$system" 0),m2=$SCHEME://127.0.0.1:$(peer_port "$system" 1),m3=$SCHEME://127.0.0.1:$(peer_port "$system" 2)"
    for m in 0 1 2; do
        name=${NAMES[$m]} cport=$(client_port "$system" "$m") pport=$(peer_port "$system" "$m")
        local args=(--name "$name" --data-dir "$WORK/$system-$name"
            --listen-client-urls "$SCHEME://127.0.0.1:$cport" --advertise-client-urls "$SCHEME://127.0.0.1:$cport"
            --listen-peer-urls "$SCHEME://127.0.0.1:$pport" --initial-advertise-peer-urls "$SCHEME://127.0.0.1:$pport"
            --initial-cluster "$initial" --initial-cluster-state new
            --initial-cluster-token "bench-$system" --heartbeat-interval 100 --election-timeout 1000)
        member_tls "$name"
        args+=("${SERVER_TLS[@]}")
        case $system in
            kvorum) dotnet "$KVORUM_DLL" serve "${args[@]}" >"$WORK/$system-$name.log" 2>&1 & ;;
            etcd)   "$ETCD" "${args[@]}" >"$WORK/$system-$name.log" 2>&1 & ;;
        esac
        pids+="${pids:+ }$!"
    done
    MEMBERS[$system]="$pids"
}

wait_healthy() { # system
    local eps; eps="$(endpoints "$1")"
    for _ in $(seq 120); do
        local json
        if json="$(etcdctl_ --endpoints "$eps" --dial-timeout 1s --command-timeout 2s endpoint status -w json 2>/dev/null)" \
            && [ "$(jq 'length' <<<"$json")" = 3 ] \
            && [ "$(jq '[.[] | select(.Status.leader != 0 and .Status.leader != null)] | length' <<<"$json")" = 3 ]; then
            return 0
        fi
        sleep 0.5
    done
    echo "$1: cluster did not become healthy" >&2
    return 1
}

leader_endpoint() { # system
    etcdctl_ --endpoints "$(endpoints "$1")" endpoint status -w json \
        | jq -r '.[] | select(.Status.header.member_id == .Status.leader) | .Endpoint' | head -1 | sed 's#^https\?://##'
}

cpu_ticks() { # system: sum of utime+stime over its members
    local total=0 pid fields
    for pid in ${MEMBERS[$1]}; do
        fields="$(sed 's/^.*) //' "/proc/$pid/stat")"   # fields from 3 (state) on
        set -- $fields
        total=$(( total + ${12} + ${13} ))              # utime (14) + stime (15)
    done
    echo "$total"
}

rss_list() { # system: "m1/m2/m3" in MiB
    local out="" pid kb
    for pid in ${MEMBERS[$1]}; do
        kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
        out+="${out:+/}$(( (kb + 512) / 1024 ))"
    done
    echo "$out"
}

run_bench() { # round system leader kind clients [consistency]
    local round=$1 system=$2 leader=$3 kind=$4 clients=$5 consistency=${6:-}
    local conns=$(( clients < 16 ? clients : 16 ))
    local mark="${TAG:-${LABEL:+idle}}"
    local tag="$system-$kind${consistency:+-$consistency}-$clients${mark:+-$mark}-r$round"
    local extra=()
    [ -n "$consistency" ] && extra=(--consistency "$consistency")
    case $kind in put|range) extra+=(--key-space 100000 --value-size 256) ;; esac
    local before after json
    # The warm-up runs in the same process as the measurement; CPU is sampled once it reports its end.
    kvorum_bench "$kind" --endpoints "$leader" --clients "$clients" --conns "$conns" \
        --warmup "$WARMUP" --duration "$DURATION" "${extra[@]}" -w json \
        >"$WORK/$tag.json" 2>"$WORK/$tag.bench.log" &
    local bench=$!
    until grep -q "warm-up done" "$WORK/$tag.bench.log" 2>/dev/null || ! kill -0 "$bench" 2>/dev/null; do sleep 0.05; done
    before="$(cpu_ticks "$system")"
    wait "$bench"
    after="$(cpu_ticks "$system")"
    json="$(cat "$WORK/$tag.json")"
    local ops cpu_us
    ops="$(jq '.succeeded' <<<"$json")"
    cpu_us="$(awk -v t=$(( after - before )) -v hz="$CLK_TCK" -v n="$ops" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$system" "$kind${consistency:+ $consistency}${LABEL:+ $LABEL}" "$clients" "$conns" \
        "$(jq '.throughput_ops_s | floor' <<<"$json")" "$(jq '.latency_ms.p50' <<<"$json")" "$(jq '.latency_ms.p99' <<<"$json")" \
        "$(jq '.latency_ms["p99.9"]' <<<"$json")" "$(jq '.errors' <<<"$json")" "$cpu_us" "$(jq '.client_cpu_us_per_op // "-"' <<<"$json")" "$(rss_list "$system")" >>"$RESULTS"
    echo "  $tag: $(jq -c '{throughput_ops_s, p99: .latency_ms.p99, errors}' <<<"$json")" >&2
}

measure() { # round system kind clients [consistency]: the system runs alone while it is measured
    local system=$2
    resume_cluster "$system"
    wait_healthy "$system"
    if [ "$system" = etcd ] && [ "$3" = range ] && [ -z "${LEASE_GRANTED:-}" ]; then
        # etcd 3.4 quirk: grant one lease before the read benchmarks.
        etcdctl_ --endpoints "$(endpoints etcd)" lease grant 600 >/dev/null
        LEASE_GRANTED=1
    fi
    run_bench "$1" "$system" "$(leader_endpoint "$system")" "$3" "$4" "${5:-}"
    pause_cluster "$system"
}

rss_kib() { # system: summed VmRSS of its members in KiB
    local total=0 pid
    for pid in ${MEMBERS[$1]}; do total=$(( total + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") )); done
    echo "$total"
}

all_endpoints_leader_first() { # system
    local leader; leader="$(leader_endpoint "$1")"
    echo "$leader,$(tr ',' '\n' <<<"$(endpoints "$1")" | grep -v "^$leader\$" | paste -sd,)"
}

# W watchers spread over the 3 members (10 streams each), puts to the leader at WATCH_PUT_RATE/s. The row: events/s in
# the ops/s column, the latency from each put's acknowledgement to each of its events, missing + repeated events and
# failed puts as errors, and in the cpu column the members' RSS growth per watcher (bytes) once all were open.
measure_watch() { # round system watchers
    local round=$1 system=$2 watchers=$3 tag="$2-watch-$3-r$1"
    resume_cluster "$system"
    wait_healthy "$system"
    kvorum_bench_bg watch --endpoints "$(all_endpoints_leader_first "$system")" --conns 3 --streams 30 \
        --watchers "$watchers" --keys "$WATCH_KEYS" --put-rate "$WATCH_PUT_RATE" --duration "$DURATION" --idle 4s \
        "${WATCH_WARMUP_FLAG[@]}" -w json >"$WORK/$tag.json" 2>"$WORK/$tag.bench.log" &
    local bench=$!
    # The RSS before the measured watchers open: after the warm-up's watchers have closed.
    until [ ${#WATCH_WARMUP_FLAG[@]} = 0 ] || grep -q "warm-up done" "$WORK/$tag.bench.log" 2>/dev/null || ! kill -0 "$bench" 2>/dev/null; do sleep 0.05; done
    local before; before="$(rss_kib "$system")"
    until grep -q "watchers open" "$WORK/$tag.bench.log" 2>/dev/null || ! kill -0 "$bench" 2>/dev/null; do sleep 0.05; done
    sleep 3
    local after; after="$(rss_kib "$system")"
    wait "$bench" || true
    local json; json="$(cat "$WORK/$tag.json")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$system" "watch @${WATCH_PUT_RATE}/s" "$watchers" 30 \
        "$(jq '.events_per_s | floor' <<<"$json")" "$(jq '.latency_ms.p50' <<<"$json")" "$(jq '.latency_ms.p99' <<<"$json")" \
        "$(jq '.latency_ms["p99.9"]' <<<"$json")" "$(jq '.events_missing + .events_unexpected + .put_errors' <<<"$json")" \
        "$(( (after - before) * 1024 / watchers ))B/w" "-" "$(rss_list "$system")" >>"$RESULTS"
    echo "  $tag: $(jq -c '{events_per_s, puts_per_s, missing: .events_missing, p99: .latency_ms.p99}' <<<"$json"), rss +$(( (after - before) / 1024 )) MiB" >&2
    pause_cluster "$system"
}

# The same watch run at one put rate of WATCH_RATES; besides its row, a line in $RATES says whether the rate was
# sustained: puts within 5% of the rate, no failed put, no missing or repeated event.
measure_watch_rate() { # round system rate
    local round=$1 system=$2 rate=$3 tag="$2-watch-rate-$3-r$1"
    resume_cluster "$system"
    wait_healthy "$system"
    kvorum_bench watch --endpoints "$(all_endpoints_leader_first "$system")" --conns 3 --streams 30 \
        --watchers "$WATCH_RATE_WATCHERS" --keys "$WATCH_KEYS" --put-rate "$rate" --duration "$DURATION" "${WATCH_WARMUP_FLAG[@]}" -w json \
        >"$WORK/$tag.json" 2>"$WORK/$tag.bench.log" || true
    local json; json="$(cat "$WORK/$tag.json")"
    local sustained; sustained="$(jq --argjson r "$rate" 'if .puts_per_s >= 0.95 * $r and .put_errors == 0 and .events_missing == 0 and .events_unexpected == 0 then 1 else 0 end' <<<"$json")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$system" "watch @${rate}/s" "$WATCH_RATE_WATCHERS" 30 \
        "$(jq '.events_per_s | floor' <<<"$json")" "$(jq '.latency_ms.p50' <<<"$json")" "$(jq '.latency_ms.p99' <<<"$json")" \
        "$(jq '.latency_ms["p99.9"]' <<<"$json")" "$(jq '.events_missing + .events_unexpected + .put_errors' <<<"$json")" \
        "$(jq '.puts_per_s | floor' <<<"$json") puts/s" "-" "$(rss_list "$system")" >>"$RESULTS"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$system" "$rate" "$(jq '.puts_per_s | floor' <<<"$json")" "$(jq '.events_per_s | floor' <<<"$json")" \
        "$(jq '.latency_ms.p99' <<<"$json")" "$sustained" >>"$RATES"
    echo "  $tag: $(jq -c '{events_per_s, puts_per_s, missing: .events_missing, p99: .latency_ms.p99}' <<<"$json"), sustained $sustained" >&2
    pause_cluster "$system"
}

# Memory per idle watcher on fresh members: summed VmRSS with IDLE_WATCHERS idle watchers open minus with none.
measure_idle_memory() { # system
    local system=$1 tag="$1-idle-memory"
    resume_cluster "$system"
    wait_healthy "$system"
    sleep 2
    local before; before="$(rss_kib "$system")"
    kvorum_bench_bg watch --endpoints "$(all_endpoints_leader_first "$system")" --conns 3 --streams 30 \
        --watchers "$IDLE_WATCHERS" --keys "$WATCH_KEYS" --put-rate 0 --duration 1h -w json >"$WORK/$tag.json" 2>"$WORK/$tag.bench.log" &
    local holder=$!
    until grep -q "watchers open" "$WORK/$tag.bench.log" 2>/dev/null || ! kill -0 "$holder" 2>/dev/null; do sleep 0.05; done
    sleep 5
    local after; after="$(rss_kib "$system")"
    kill -TERM "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' 0 "$system" "idle watchers, memory" "$IDLE_WATCHERS" 30 \
        "-" "-" "-" "-" "-" "$(( (after - before) * 1024 / IDLE_WATCHERS ))B/w" "-" "$(rss_list "$system")" >>"$RESULTS"
    echo "  $tag: RSS $(( before / 1024 )) -> $(( after / 1024 )) MiB, $(( (after - before) * 1024 / IDLE_WATCHERS )) B per watcher" >&2
    pause_cluster "$system"
}

# put and range at 64 clients while IDLE_WATCHERS watchers stay open on the members (their own rows, marked "idle").
measure_with_idle_watchers() { # round system
    local round=$1 system=$2 tag="$2-idle-r$1"
    resume_cluster "$system"
    wait_healthy "$system"
    # The same runs without the watchers first, on the same state: the pair's ratio then compares two adjacent runs,
    # not runs minutes apart on a store that has grown between them (the summary's last table).
    if [ "$IDLE_CONTROL" = 1 ]; then
        local first; first="$(leader_endpoint "$system")"
        LABEL="(control: no idle watchers)" TAG=control run_bench "$round" "$system" "$first" put 64
        LABEL="(control: no idle watchers)" TAG=control run_bench "$round" "$system" "$first" range 64 l
    fi
    kvorum_bench_bg watch --endpoints "$(all_endpoints_leader_first "$system")" --conns 3 --streams 30 \
        --watchers "$IDLE_WATCHERS" --keys "$WATCH_KEYS" --put-rate 0 --duration 1h -w json >"$WORK/$tag.json" 2>"$WORK/$tag.bench.log" &
    local holder=$!
    until grep -q "watchers open" "$WORK/$tag.bench.log" 2>/dev/null || ! kill -0 "$holder" 2>/dev/null; do sleep 0.05; done
    local leader; leader="$(leader_endpoint "$system")"
    LABEL="+${IDLE_WATCHERS} idle watchers" run_bench "$round" "$system" "$leader" put 64
    LABEL="+${IDLE_WATCHERS} idle watchers" run_bench "$round" "$system" "$leader" range 64 l
    kill -TERM "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    pause_cluster "$system"
}

: >"$RESULTS"
: >"$RATES"
echo "uptime: $(uptime)" >&2
for system in "${SYSTEMS[@]}"; do
    echo "== $system: starting 3 members on client ports $(endpoints "$system")" >&2
    start_cluster "$system"
    wait_healthy "$system"
    echo "== $system: leader $(leader_endpoint "$system") (pids ${MEMBERS[$system]})" >&2
    pause_cluster "$system"
done
if [ -n "$IDLE_WATCHERS" ] && [ "$IDLE_WATCHERS" != 0 ]; then
    for system in "${SYSTEMS[@]}"; do measure_idle_memory "$system"; done
fi
for round in $(seq "$ROUNDS"); do
    echo "== round $round; uptime: $(uptime)" >&2
    for c in $PUT_CLIENTS; do
        for system in "${SYSTEMS[@]}"; do measure "$round" "$system" put "$c"; done
    done
    for c in $RANGE_CLIENTS; do
        for consistency in l s; do
            for system in "${SYSTEMS[@]}"; do measure "$round" "$system" range "$c" "$consistency"; done
        done
    done
    if [ -n "$IDLE_WATCHERS" ] && [ "$IDLE_WATCHERS" != 0 ]; then
        for system in "${SYSTEMS[@]}"; do measure_with_idle_watchers "$round" "$system"; done
    fi
    for w in $WATCHERS; do
        for system in "${SYSTEMS[@]}"; do measure_watch "$round" "$system" "$w"; done
    done
    for rate in $WATCH_RATES; do
        for system in "${SYSTEMS[@]}"; do measure_watch_rate "$round" "$system" "$rate"; done
    done
    # Last: the granted leases stay (TTL 600 s) and would weigh on the workloads after them.
    for c in $LEASE_CLIENTS; do
        for kind in lease-grant lease-keepalive; do
            for system in "${SYSTEMS[@]}"; do measure "$round" "$system" "$kind" "$c"; done
        done
    done
done
stop_all

echo
{
    printf 'round\tsystem\tworkload\tclients\tconns\tops/s\tp50_ms\tp99_ms\tp99.9_ms\terrors\tcpu_us/op\tclient_us/op\trss_MiB(m1/m2/m3)\n'
    cat "$RESULTS"
} | column -t -s $'\t'
if [ ${#SYSTEMS[@]} -eq 2 ]; then
    # One line per pair: the first system's throughput over the second's, and both p99s.
    echo
    awk -F'\t' -v a="${SYSTEMS[0]}" -v b="${SYSTEMS[1]}" '
        { key = $1 "\t" $3 "\t" $4; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
          ops[key, $2] = $6; p99[key, $2] = $8 }
        END {
            printf "round\tworkload\tclients\t%s/%s ops\tratio\tp99 %s/%s ms\n", a, b, a, b
            for (i = 1; i <= n; i++) {
                k = order[i]
                if ((k, a) in ops && (k, b) in ops && ops[k, b] > 0)
                    printf "%s\t%s/%s\t%.2fx\t%s/%s\n", k, ops[k, a], ops[k, b], ops[k, a] / ops[k, b], p99[k, a], p99[k, b]
            }
        }' "$RESULTS" | column -t -s $'\t'
    if [ "$ROUNDS" -gt 1 ]; then
        # One line per workload over the rounds: a single 10 s pair is at the mercy of the minute it ran in
        # (see the header), so the median pair's ratio is the figure to quote, with the lowest and highest beside it.
        echo
        awk -F'\t' -v a="${SYSTEMS[0]}" -v b="${SYSTEMS[1]}" '
            { key = $3 "\t" $4; pair = $1 SUBSEP key; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
              ops[pair, $2] = $6; if ((pair, a) in ops && (pair, b) in ops && ops[pair, b] > 0) r[key, ++m[key]] = ops[pair, a] / ops[pair, b] }
            END {
                printf "workload\tclients\tpairs\tmedian %s/%s\tlowest\thighest\n", a, b
                for (i = 1; i <= n; i++) {
                    k = order[i]; c = m[k]; if (c == 0) continue
                    for (x = 1; x <= c; x++) v[x] = r[k, x]
                    for (x = 2; x <= c; x++) { t = v[x]; for (y = x - 1; y >= 1 && v[y] > t; y--) v[y + 1] = v[y]; v[y + 1] = t }
                    med = c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
                    printf "%s\t%d\t%.2fx\t%.2fx\t%.2fx\n", k, c, med, v[1], v[c]
                }
            }' "$RESULTS" | column -t -s $'\t'
    fi
fi
if [ "$IDLE_CONTROL" = 1 ] && grep -q "control: no idle watchers" "$RESULTS"; then
    # Per system and workload, over the rounds: throughput with the idle watchers open over the control run just before.
    echo
    awk -F'\t' '
        { w = $3; ctl = sub(/ \(control: no idle watchers\)$/, "", w); idle = sub(/ \+[0-9]+ idle watchers$/, "", w)
          if (!ctl && !idle) next
          key = $2 "\t" w; pair = $1 SUBSEP key
          if (ctl) c[pair] = $6; else i[pair] = $6
          if ((pair in c) && (pair in i) && c[pair] > 0) { if (!(key in m)) order[++n] = key; r[key, ++m[key]] = i[pair] / c[pair] } }
        END {
            printf "system\tworkload\tpairs\tmedian with/without idle watchers\tlowest\thighest\n"
            for (k = 1; k <= n; k++) {
                key = order[k]; cnt = m[key]
                for (x = 1; x <= cnt; x++) v[x] = r[key, x]
                for (x = 2; x <= cnt; x++) { t = v[x]; for (y = x - 1; y >= 1 && v[y] > t; y--) v[y + 1] = v[y]; v[y + 1] = t }
                med = cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
                printf "%s\t%d\t%.2fx\t%.2fx\t%.2fx\n", key, cnt, med, v[1], v[cnt]
            }
        }' "$RESULTS" | column -t -s $'\t'
fi
if [ -s "$RATES" ]; then
    # Per system, the highest rate sustained in every round; then both systems' events/s and p99 at etcd's highest and
    # at each system's own (the medians over the rounds).
    echo
    awk -F'\t' '
        { key = $1 SUBSEP $2; if (!(key in n)) { n[key] = 0; ok[key] = 1 } ; n[key]++
          ev[key, n[key]] = $4; p99[key, n[key]] = $5; if ($6 != 1) ok[key] = 0; systems[$1] = 1; rates[$2] = 1 }
        function median(key, arr,   c, x, y, t, v) { c = n[key]; for (x = 1; x <= c; x++) v[x] = arr[key, x]
            for (x = 2; x <= c; x++) { t = v[x]; for (y = x - 1; y >= 1 && v[y] > t; y--) v[y + 1] = v[y]; v[y + 1] = t }
            return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
        END {
            for (s in systems) { best[s] = 0; for (r in rates) if (((s, r) in ok) && ok[s, r] && r + 0 > best[s]) best[s] = r + 0 }
            printf "system\thighest sustained puts/s\tevents/s there\tp99 ms there\tat etcd highest (%s/s): events/s\tp99 ms\n", best["etcd"]
            for (s in systems) {
                b = best[s]; e = best["etcd"]
                printf "%s\t%s\t%s\t%s\t%s\t%s\n", s, b ? b : "none",
                    b ? median(s SUBSEP b, ev) : "-", b ? median(s SUBSEP b, p99) : "-",
                    (e && ((s, e) in n)) ? median(s SUBSEP e, ev) : "-", (e && ((s, e) in n)) ? median(s SUBSEP e, p99) : "-"
            }
        }' "$RATES" | column -t -s $'\t'
fi
echo
for f in "$WORK"/*.json; do echo "$(basename "$f" .json) $(jq -c . "$f")"; done
