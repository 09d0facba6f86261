#!/usr/bin/env bash
# Backup and restore, Kvorum vs etcd: one member of each on loopback (client ports 2379 and 2479), the same load
# (`kvorum bench put`, PUTS puts of VALUE_SIZE bytes over KEY_SPACE keys), then for each system:
#   save     snapshot save from the member (kvorum's with `kvorum snapshot save`, etcd's with `etcdctl snapshot save`)
#   restore  snapshot restore into a new data directory (`kvorum snapshot restore`, `etcdctl snapshot restore`)
#   start    the restored member started, until it answers a linearizable read
# and prints the times, the file sizes and the restored member's key count.
# Env: PUTS (200000), KEY_SPACE (200000), VALUE_SIZE (1000), KVORUM_DLL (Release build), ETCD, ETCDCTL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PUTS="${PUTS:-200000}"; KEY_SPACE="${KEY_SPACE:-200000}"; VALUE_SIZE="${VALUE_SIZE:-1000}"
KVORUM_DLL="${KVORUM_DLL:-$ROOT/src/Kvorum.Cli/bin/Release/net10.0/kvorum.dll}"
ETCD="${ETCD:-/usr/bin/etcd}"; ETCDCTL="${ETCDCTL:-/usr/bin/etcdctl}"
export ETCDCTL_API=3
[ -f "$KVORUM_DLL" ] || (cd "$ROOT" && dotnet build -c Release src/Kvorum.Cli -nologo -v quiet >&2)
for port in 2379 2380 2479 2480; do
    if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is in use" >&2; exit 1; fi
done
WORK="$(mktemp -d /tmp/backup-vs-etcd.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
kvorum() { dotnet "$KVORUM_DLL" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
start_member() { # system dir client-port token
    local system=$1 dir=$2 c=$3 p=$(( $3 + 1 )) token=$4
    local args=(--name m1 --data-dir "$dir" --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c"
        --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p"
        --initial-cluster "m1=http://127.0.0.1:$p" --initial-cluster-token "$token")
    if [ "$system" = kvorum ]; then dotnet "$KVORUM_DLL" serve "${args[@]}" >>"$dir.log" 2>&1 & else "$ETCD" "${args[@]}" >>"$dir.log" 2>&1 & fi
    PIDS+=($!)
}
wait_read() { # client-port: until a linearizable read answers
    for _ in $(seq 600); do "$ETCDCTL" --endpoints "127.0.0.1:$1" --dial-timeout 1s --command-timeout 2s get x >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "no answer on $1" >&2; return 1
}
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }

echo "== load: $PUTS puts of $VALUE_SIZE bytes over $KEY_SPACE keys into each system" >&2
start_member kvorum "$WORK/kvorum" 2379 bench; start_member etcd "$WORK/etcd" 2479 bench
wait_read 2379; wait_read 2479
for port in 2379 2479; do
    kvorum bench put --endpoints "127.0.0.1:$port" --clients 64 --conns 16 --total "$PUTS" --key-space "$KEY_SPACE" --value-size "$VALUE_SIZE" >/dev/null 2>&1
done
printf 'system\tsave_s\tfile_MB\trestore_s\tstart_s\tkeys\n' >"$WORK/results.tsv"
for system in kvorum etcd; do
    port=$([ $system = kvorum ] && echo 2379 || echo 2479)
    file="$WORK/$system.snap"
    t=$(now)
    if [ $system = kvorum ]; then kvorum --endpoints "127.0.0.1:$port" snapshot save "$file" >/dev/null; else "$ETCDCTL" --endpoints "127.0.0.1:$port" snapshot save "$file" >/dev/null 2>&1; fi
    save=$(since "$t")
    size=$(awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.1f", b / 1e6 }')
    echo "$system saved $size MB in $save s" >&2
    stop_all
    t=$(now)
    restore_args=(--name m1 --data-dir "$WORK/$system-restored" --initial-cluster "m1=http://127.0.0.1:$(( port + 1 ))"
        --initial-advertise-peer-urls "http://127.0.0.1:$(( port + 1 ))" --initial-cluster-token restored)
    if [ $system = kvorum ]; then kvorum snapshot restore "$file" "${restore_args[@]}" >/dev/null; else "$ETCDCTL" snapshot restore "$file" "${restore_args[@]}" >/dev/null 2>&1; fi
    restore=$(since "$t")
    t=$(now)
    start_member $system "$WORK/$system-restored" "$port" restored
    wait_read "$port"
    start=$(since "$t")
    keys=$(kvorum --endpoints "127.0.0.1:$port" get "" --from-key --count-only)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' $system "$save" "$size" "$restore" "$start" "$keys" >>"$WORK/results.tsv"
    stop_all
    if [ $system = kvorum ]; then start_member etcd "$WORK/etcd" 2479 bench; wait_read 2479; fi
done
column -t -s $'\t' "$WORK/results.tsv"
