#!/usr/bin/env bash
# Memory under clients that never read their answers, Kvorum vs etcd (issue 23): one member of each on loopback, in
# turn, loaded with `kvorum bench put` (PUTS puts of VALUE_SIZE bytes over KEY_SPACE keys); then CLIENTS raw HTTP/2
# connections each open a full-range read (key "\0", range end "\0") and never read a byte of the answer, for HOLD
# seconds, and go. Prints the member's resident memory (VmRSS): after the load, the peak while the readers wait, and
# AFTER seconds after they have gone.
# Env: PUTS (40000), KEY_SPACE (20000), VALUE_SIZE (1000), CLIENTS (100), HOLD (20), AFTER (60), PORT (23790; PORT+1
# is the peer port), SYSTEMS ("kvorum etcd"), KVORUM_DLL (Release build), ETCD, KVORUM_SERVE_ENV (extra environment
# for the kvorum member, e.g. DOTNET_gcServer=1, to compare runtime settings), RESTART (set: restart the member with its
# data after the load, before the readers).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PUTS="${PUTS:-40000}"; KEY_SPACE="${KEY_SPACE:-20000}"; VALUE_SIZE="${VALUE_SIZE:-1000}"
CLIENTS="${CLIENTS:-100}"; HOLD="${HOLD:-20}"; AFTER="${AFTER:-60}"; PORT="${PORT:-23790}"; SYSTEMS="${SYSTEMS:-kvorum etcd}"
KVORUM_DLL="${KVORUM_DLL:-$ROOT/src/Kvorum.Cli/bin/Release/net10.0/kvorum.dll}"
ETCD="${ETCD:-/usr/bin/etcd}"
[ -f "$KVORUM_DLL" ] || (cd "$ROOT" && dotnet build -c Release src/Kvorum.Cli -nologo -v quiet >&2)
for port in "$PORT" $((PORT + 1)); do
    if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is in use" >&2; exit 1; fi
done
WORK="$(mktemp -d /tmp/unread-ranges.XXXXXX)"
PID=""
stop() { [ -z "$PID" ] || { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }; }
trap 'stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
rss_mib() { awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

for system in $SYSTEMS; do
    dir="$WORK/$system"; c="$PORT"; p=$((PORT + 1))
    args=(--name m1 --data-dir "$dir" --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c"
        --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p"
        --initial-cluster "m1=http://127.0.0.1:$p" --initial-cluster-token "unread-$system")
    start() {
        if [ "$system" = kvorum ]; then
            env ${KVORUM_SERVE_ENV:-} dotnet "$KVORUM_DLL" serve "${args[@]}" >>"$dir.log" 2>&1 &
        else
            "$ETCD" "${args[@]}" --quota-backend-bytes 8589934592 >>"$dir.log" 2>&1 &
        fi
        PID=$!
        for _ in $(seq 300); do dotnet "$KVORUM_DLL" --endpoints "127.0.0.1:$c" put ready 1 >/dev/null 2>&1 && break; sleep 0.2; done
    }
    start
    dotnet "$KVORUM_DLL" bench put --endpoints "127.0.0.1:$c" --clients 32 --conns 4 --total "$PUTS" --key-space "$KEY_SPACE" \
        --value-size "$VALUE_SIZE" >"$dir.bench" 2>&1
    sleep 5
    if [ -n "${RESTART:-}" ]; then
        # The member as it is after a restart with its data: its smallest footprint is its data, not an empty store.
        stop; start; sleep 10
    fi
    loaded=$(rss_mib "$PID")
    python3 - "$c" "$PID" "$CLIENTS" "$HOLD" "$AFTER" "$system" "$loaded" <<'PY'
import socket, struct, sys, time
port, pid, clients, hold, after, system, loaded = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload
def string(s):
    b = s.encode()
    assert len(b) < 127
    return bytes([len(b)]) + b
# HPACK without Huffman coding: :method POST, :scheme http, then literal values (RFC 7541, appendix A).
headers = (b"\x83\x86\x04" + string("/etcdserverpb.KV/Range") + b"\x01" + string(f"127.0.0.1:{port}")
           + b"\x0f\x10" + string("application/grpc") + b"\x00" + string("te") + string("trailers"))
message = b"\x0a\x01\x00\x12\x01\x00"  # RangeRequest{key: "\0", range_end: "\0"}: every key
grpc = b"\x00" + struct.pack(">I", len(message)) + message
readers = []
for _ in range(clients):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") + frame(1, 4, 1, headers) + frame(0, 1, 1, grpc))
    readers.append(s)
peak, end = 0, time.time() + hold
while time.time() < end:
    peak = max(peak, rss())
    time.sleep(0.25)
for s in readers:
    s.close()
left = time.time()
print(f"{system}: RSS {loaded} MiB after the load, peak {peak} MiB with {clients} unread full-range reads", flush=True)
for mark in sorted({m for m in (10, 30, 60, 120, after) if m <= after}):
    time.sleep(max(0, left + mark - time.time()))
    print(f"{system}:   {rss()} MiB {mark:.0f} s after the readers left", flush=True)
PY
    dotnet "$KVORUM_DLL" --endpoints "127.0.0.1:$c" put after 1 >/dev/null 2>&1 || echo "$system: a put after the readers left failed" >&2
    echo "$system: $(grep -iE 'requests/s|throughput' "$dir.bench" | head -1 | tr -s ' ')"
    stop
done
