#!/usr/bin/env bash
# Snapshots sent to followers while the leader is killed again and again under write load, with and without the
# entries the log keeps behind a snapshot (--experimental-snapshot-catchup-entries, etcd's flag, default 5000).
#
# For each CATCHUP value in turn it starts a fresh 3-member Kvorum cluster (the Release build) on 127.0.0.1 only:
# client ports 2579/22579/32579, peer ports 2580/22580/32580, data under a mktemp dir, --snapshot-count
# SNAPSHOT_COUNT, heartbeat 100 ms, election timeout 1000 ms, each member's stdout/stderr appended to its own log.
# A write load (`kvorum bench put`, 16 clients over 4 connections spread over the three endpoints, 256-byte values,
# keys drawn from KEY_SPACE keys) runs for the whole run. The history is compacted so the state stays small: the
# members run revision auto-compaction keeping AUTO_COMPACTION_RETENTION revisions (--auto-compaction-mode revision
# --auto-compaction-retention), but that checks every 5 minutes (etcd's interval) from a member's start, longer than
# a run, so the script also compacts itself every COMPACT_SECONDS: `kvorum compaction` to the highest revision any
# member reports minus AUTO_COMPACTION_RETENTION (0 turns both off).
# Then ROUNDS times: find the leader (`kvorum endpoint status -w json`: the endpoint whose member_id is its own
# leader), kill -9 it, wait DOWN_SECONDS, restart it with the same flags (a restart of an
# existing data dir ignores the initial-cluster flags), wait until it answers a status request (a .NET start takes
# seconds on a loaded machine, and killing the next leader before would leave no quorum), then UP_SECONDS.
# DOWN_SECONDS (8) is meant to leave the member more entries behind than a snapshot interval and fewer than the 5000
# a catchup of 5000 keeps (how it was sized: docs/safety.md); a member is behind from its kill until it is back,
# DOWN_SECONDS plus the .NET start. Each round's line (stderr) shows how far behind it came back: the highest raft index
# any member reports once it answers, minus its own log's last index when it loaded its data directory.
# The restarted member comes back as a follower that missed the writes of its downtime: the leader sends it entries
# if its log still holds them, or its whole state (a Raft InstallSnapshot) if it was compacted past them. A member
# snapshots every SNAPSHOT_COUNT entries at the soonest, and later if its state is large (the log since the last
# snapshot must reach half that snapshot's size, SnapshotSchedule.LogShare); with KEY_SPACE keys and the history
# compacted, the state stays small enough that it is about every SNAPSHOT_COUNT entries (without compaction the kept
# history grows with every write, and snapshots become rarer and rarer). With a nonzero catchup a written snapshot is
# made current only that many entries later, and the next one is started after it. At the end the load generator
# and the compaction loop are stopped
# (SIGTERM: it prints its summary), then the members, and the members' logs are counted:
#   snapshots taken      lines "took snapshot at index" (a snapshot made current and the log compacted to it)
#   snapshots installed  lines "installed snapshot at index" (a follower that was sent the leader's state)
# Prints one table: catchup, rounds (leaders actually killed), writes acknowledged, snapshots taken, installed, and
# how far behind the restarted members came back (entries, min-max over the rounds).
#
# Usage: bench/snapshot-catchup.sh
# Env:   CATCHUPS ("0 5000"), ROUNDS (10), SNAPSHOT_COUNT (1000), DOWN_SECONDS (8), UP_SECONDS (3),
#        KEY_SPACE (1000), AUTO_COMPACTION_RETENTION (1000, revisions), COMPACT_SECONDS (1),
#        CLIENTS (16), CONNS (4), VALUE_SIZE (256), KVORUM_DLL (the Release build, made first),
#        KEEP_LOGS=dir (copy the members' logs and the load generator's output there)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CATCHUPS="${CATCHUPS:-0 5000}"
ROUNDS="${ROUNDS:-10}"
SNAPSHOT_COUNT="${SNAPSHOT_COUNT:-1000}"
DOWN_SECONDS="${DOWN_SECONDS:-8}"
UP_SECONDS="${UP_SECONDS:-3}"
CLIENTS="${CLIENTS:-16}"
CONNS="${CONNS:-4}"
VALUE_SIZE="${VALUE_SIZE:-256}"
KEY_SPACE="${KEY_SPACE:-1000}"
AUTO_COMPACTION_RETENTION="${AUTO_COMPACTION_RETENTION:-1000}"
COMPACT_SECONDS="${COMPACT_SECONDS:-1}"
KVORUM_DLL="${KVORUM_DLL:-$ROOT/src/Kvorum.Cli/bin/Release/net10.0/kvorum.dll}"

NAMES=(m1 m2 m3)
CLIENT_PORTS=(2579 22579 32579)
PEER_PORTS=(2580 22580 32580)
ENDPOINTS="127.0.0.1:${CLIENT_PORTS[0]},127.0.0.1:${CLIENT_PORTS[1]},127.0.0.1:${CLIENT_PORTS[2]}"
INITIAL="m1=http://127.0.0.1:${PEER_PORTS[0]},m2=http://127.0.0.1:${PEER_PORTS[1]},m3=http://127.0.0.1:${PEER_PORTS[2]}"
# The load runs until it is stopped; this only bounds it should the script die without its trap.
LOAD_DURATION="$(( ROUNDS * (DOWN_SECONDS + UP_SECONDS + 30) + 300 ))s"

WORK="$(mktemp -d /tmp/kvorum-snapshot-catchup.XXXXXX)"
RESULTS="$WORK/results.tsv"
PIDS=("" "" "")   # member index -> pid of its running process
LOAD_PID=""
COMPACT_PID=""

stop_members() {
    local m pid
    for m in 0 1 2; do [ -n "${PIDS[$m]}" ] && kill -TERM "${PIDS[$m]}" 2>/dev/null || true; done
    for m in 0 1 2; do
        pid="${PIDS[$m]}"
        [ -n "$pid" ] || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        PIDS[$m]=""
    done
}

stop_load() { # SIGTERM: the load generator stops and prints its summary
    [ -n "$LOAD_PID" ] || return 0
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$LOAD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
    LOAD_PID=""
}

stop_compactor() { # it stops between two compactions: no kvorum client is left running
    [ -n "$COMPACT_PID" ] || return 0
    touch "$WORK/stop-compactor"
    for _ in $(seq 150); do kill -0 "$COMPACT_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$COMPACT_PID" 2>/dev/null || true
    wait "$COMPACT_PID" 2>/dev/null || true
    COMPACT_PID=""
    rm -f "$WORK/stop-compactor"
}

cleanup() {
    stop_compactor
    stop_load
    stop_members
    if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS"; cp "$WORK"/*.log "$WORK"/*.json "$KEEP_LOGS"/ 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "${CLIENT_PORTS[@]}" "${PEER_PORTS[@]}"; do
    if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is in use" >&2; exit 1; fi
done
echo "== building the Release CLI" >&2
(cd "$ROOT" && dotnet build src/Kvorum.Cli -c Release -nologo -v quiet) >&2
[ -f "$KVORUM_DLL" ] || { echo "no $KVORUM_DLL after the build" >&2; exit 1; }

start_member() { # catchup member-index
    local catchup=$1 m=$2 name=${NAMES[$2]} cport=${CLIENT_PORTS[$2]} pport=${PEER_PORTS[$2]}
    dotnet "$KVORUM_DLL" serve --name "$name" --data-dir "$WORK/c$catchup-$name" \
        --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
        --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$INITIAL" --initial-cluster-state new --initial-cluster-token "snapshot-catchup-$catchup" \
        --heartbeat-interval 100 --election-timeout 1000 \
        --snapshot-count "$SNAPSHOT_COUNT" --experimental-snapshot-catchup-entries "$catchup" \
        --auto-compaction-mode revision --auto-compaction-retention "$AUTO_COMPACTION_RETENTION" \
        >>"$WORK/c$catchup-$name.log" 2>&1 &
    PIDS[$m]=$!
}

# The index (0-2) of the member that is its own leader by its own status, or nothing; members that do not answer
# (the one just killed, one still starting) are left out.
leader_index() {
    local json port m
    json="$(dotnet "$KVORUM_DLL" endpoint status --endpoints "$ENDPOINTS" --dial-timeout 1s --command-timeout 2s -w json 2>/dev/null || true)"
    [ -n "$json" ] || return 0
    port="$(jq -r '.[] | select(.Status.leader != null and .Status.leader != 0 and .Status.header.member_id == .Status.leader) | .Endpoint' <<<"$json" 2>/dev/null \
        | head -1 | sed 's#^.*:##')"
    for m in 0 1 2; do [ "$port" = "${CLIENT_PORTS[$m]}" ] && echo "$m"; done
    return 0
}

wait_answers() { # member-index: until it answers a status request, at most 60 s
    for _ in $(seq 60); do
        dotnet "$KVORUM_DLL" endpoint status --endpoints "127.0.0.1:${CLIENT_PORTS[$1]}" --dial-timeout 1s --command-timeout 2s \
            >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "  ${NAMES[$1]} did not answer within 60 s of its restart" >&2
}

# Every COMPACT_SECONDS: compact to the highest revision any member reports minus AUTO_COMPACTION_RETENTION.
# Failures (no leader just now, compacted already) are left to the next turn. Stops when $WORK/stop-compactor exists.
compactor() { # log-file
    local json rev target last=0
    while [ ! -e "$WORK/stop-compactor" ]; do
        sleep "$COMPACT_SECONDS"
        json="$(dotnet "$KVORUM_DLL" endpoint status --endpoints "$ENDPOINTS" --dial-timeout 1s --command-timeout 2s -w json 2>/dev/null || true)"
        rev="$(jq '[.[] | .Status.header.revision // 0 | tonumber] | max // 0' <<<"$json" 2>/dev/null || echo 0)"
        target=$(( ${rev:-0} - AUTO_COMPACTION_RETENTION ))
        if [ "$target" -gt "$last" ] && [ ! -e "$WORK/stop-compactor" ]; then
            if dotnet "$KVORUM_DLL" compaction "$target" --endpoints "$ENDPOINTS" --dial-timeout 1s --command-timeout 2s >>"$1" 2>&1; then
                last=$target
            fi
        fi
    done
}

# The highest raft index any member reports, or nothing.
head_index() {
    dotnet "$KVORUM_DLL" endpoint status --endpoints "$ENDPOINTS" --dial-timeout 1s --command-timeout 2s -w json 2>/dev/null \
        | jq '[.[] | .Status.raftIndex // .Status.raft_index // 0 | tonumber] | max // empty' 2>/dev/null || true
}

wait_leader() { # prints the leader's index, or nothing after 60 s
    local m
    for _ in $(seq 120); do
        m="$(leader_index)"
        [ -n "$m" ] && { echo "$m"; return 0; }
        sleep 0.5
    done
}

: >"$RESULTS"
echo "uptime: $(uptime)" >&2
for catchup in $CATCHUPS; do
    echo "== catchup $catchup: starting 3 members on $ENDPOINTS" >&2
    for m in 0 1 2; do start_member "$catchup" "$m"; done
    leader="$(wait_leader)"
    [ -n "$leader" ] || { echo "catchup $catchup: no leader within 60 s" >&2; exit 1; }
    echo "== catchup $catchup: leader ${NAMES[$leader]}; write load started" >&2
    dotnet "$KVORUM_DLL" bench put --endpoints "$ENDPOINTS" --clients "$CLIENTS" --conns "$CONNS" \
        --duration "$LOAD_DURATION" --value-size "$VALUE_SIZE" --key-space "$KEY_SPACE" -w json \
        >"$WORK/c$catchup-load.json" 2>"$WORK/c$catchup-load.log" &
    LOAD_PID=$!
    if [ "$AUTO_COMPACTION_RETENTION" -gt 0 ]; then
        compactor "$WORK/c$catchup-compaction.log" &
        COMPACT_PID=$!
    fi
    sleep "$UP_SECONDS"
    killed=0
    behind=()
    for round in $(seq "$ROUNDS"); do
        leader="$(wait_leader)"
        if [ -z "$leader" ]; then echo "  round $round: no leader within 60 s, skipped" >&2; continue; fi
        echo "  round $round: kill -9 ${NAMES[$leader]} (leader, pid ${PIDS[$leader]}); $(tail -1 "$WORK/c$catchup-load.log" 2>/dev/null)" >&2
        kill -KILL "${PIDS[$leader]}"
        wait "${PIDS[$leader]}" 2>/dev/null || true
        killed=$(( killed + 1 ))
        sleep "$DOWN_SECONDS"
        start_member "$catchup" "$leader"
        wait_answers "$leader"
        head="$(head_index)"
        own="$(grep "loaded the data directory" "$WORK/c$catchup-${NAMES[$leader]}.log" | tail -1 | sed -n 's/.*log to index \([0-9]*\).*/\1/p')"
        if [ -n "$head" ] && [ -n "$own" ]; then
            behind+=( $(( head - own )) )
            echo "    ${NAMES[$leader]} back, $(( head - own )) entries behind (its log to $own, the head at $head)" >&2
        fi
        sleep "$UP_SECONDS"
    done
    kill -0 "$LOAD_PID" 2>/dev/null || echo "catchup $catchup: the load generator ended early (see its output)" >&2
    stop_compactor
    stop_load
    stop_members
    range="?"
    [ "${#behind[@]}" -gt 0 ] && range="$(printf '%s\n' "${behind[@]}" | sort -n | sed -n '1p;$p' | paste -sd- -)"
    acked="$(jq '.succeeded' "$WORK/c$catchup-load.json" 2>/dev/null || echo "?")"
    taken="$(cat "$WORK"/c"$catchup"-m?.log | grep -c "took snapshot at index" || true)"
    installed="$(cat "$WORK"/c"$catchup"-m?.log | grep -c "installed snapshot at index" || true)"
    echo "== catchup $catchup: $killed leaders killed, $acked writes acknowledged, $taken snapshots taken, $installed installed; restarted members $range entries behind" >&2
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$catchup" "$killed" "$acked" "$taken" "$installed" "$range" >>"$RESULTS"
done

echo
{
    printf 'catchup\trounds\twrites_acked\tsnapshots_taken\tsnapshots_installed\tentries_behind\n'
    cat "$RESULTS"
} | column -t -s $'\t'
