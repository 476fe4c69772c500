#!/bin/sh
# kafka-broker.sh - a real, single-node Apache Kafka broker for tests and benchmarks.
#
#   scripts/kafka-broker.sh start    fetch the jars if needed, start, wait until it serves
#   scripts/kafka-broker.sh stop     SIGTERM the broker by its pid file, wait, clean up
#   scripts/kafka-broker.sh status   say whether it runs (exit 0) or not (exit 1)
#   scripts/kafka-broker.sh env      print KAFKA_BROKERS=127.0.0.1:PORT (exit 1 if not running)
#   scripts/kafka-broker.sh fetch    only download the jars into the cache
#   scripts/kafka-broker.sh log      print the broker's log
#   scripts/kafka-broker.sh pause    stop the broker but keep its data and ports (fault tests)
#   scripts/kafka-broker.sh resume   start a paused broker again: same data, same address
#
# Kafka is not packaged by Debian and the release tarball cannot be downloaded here, but the
# broker's jars are on Maven Central: `mvn dependency:copy-dependencies` on scripts/kafka/pom.xml
# fetches them once into a cache outside the work tree, so later runs start offline. The broker
# runs in KRaft mode (combined broker + controller, no ZooKeeper) on 127.0.0.1 with two free
# ports picked at start, so it can run beside another broker (or another test run). It is
# ready when kcat sees "broker 1 at" in its metadata -- an accepting port is not enough.
# `stop` only ever signals the pid in the pid file, after checking that the process is this
# broker; nothing is killed by name. See docs/kafka.md.
#
# Environment:
#   KAFKA_STATE_DIR     config, data, logs, pid and bootstrap files (default build/kafka)
#   KAFKA_CACHE_DIR     jar cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/hts-kafka/3.9.1)
#   KAFKA_HEAP_OPTS     JVM heap (default -Xms512m -Xmx512m)
#   KAFKA_START_TIMEOUT seconds to wait for the broker to serve (default 60)
#   KAFKA_STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL (default 30)
#   KAFKA_EXTRA_PROPS   extra server.properties lines, newline-separated (reliability tests)
set -eu

KAFKA_VERSION=3.9.1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hts-kafka/$KAFKA_VERSION}
LIBS=$CACHE/libs
STATE=${KAFKA_STATE_DIR:-$ROOT/build/kafka}
case $STATE in /*) ;; *) STATE=$(pwd)/$STATE ;; esac
PIDFILE=$STATE/broker.pid
BOOTFILE=$STATE/bootstrap
PROPS=$STATE/server.properties
LOG=$STATE/logs/broker.log
START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}

say() { echo "kafka-broker: $*" >&2; }
die() { say "error: $*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (run scripts/install-deps.sh)"; }

# Serialise start/stop on one state dir. The broker must not inherit fd 9, or it would
# hold the lock for its whole life: every command that outlives us closes it (9>&-).
lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.lock"
    flock -w 120 9 || die "another kafka-broker.sh holds $STATE/.lock"
}

# is_broker PID: true if PID is alive (not a zombie) and is the broker of this state dir.
is_broker() {
    [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    case $cmd in *kafka.Kafka\ "$PROPS"*) return 0 ;; esac
    return 1
}

# alive PID: the process exists and is not a zombie (a broker that died while this script,
# its parent, still runs stays a zombie until we exit, and kill -0 succeeds on zombies).
alive() {
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    case $st in Z* | X* | "") return 1 ;; esac
    return 0
}

read_pid() { pid=$(cat "$PIDFILE" 2>/dev/null || true); }

running() { read_pid; is_broker "$pid"; }

print_log() {
    if [ -s "$LOG" ]; then
        say "last lines of $LOG:"
        tail -n "${1:-60}" "$LOG" | sed 's/^/    /' >&2
    else
        say "no broker log at $LOG"
    fi
}

fetch() {
    [ -f "$LIBS/.complete" ] && return 0
    need mvn
    need flock
    mkdir -p "$CACHE"
    # one download at a time per cache: a second start (another state dir) waits for it
    exec 8>"$CACHE/.fetch.lock"
    flock -w 600 8 || die "another kafka-broker.sh holds $CACHE/.fetch.lock"
    if [ -f "$LIBS/.complete" ]; then
        exec 8>&-
        return 0
    fi
    tmp=$CACHE/libs.tmp.$$
    rm -rf "$tmp"
    say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (first run only)"
    t0=$(date +%s)
    if ! mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" ${KAFKA_MVN_OPTS:-} \
        dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime \
        >"$CACHE/mvn.log" 2>&1 8>&- 9>&-; then
        tail -n 40 "$CACHE/mvn.log" >&2
        rm -rf "$tmp"
        die "mvn could not fetch the Kafka jars (full log: $CACHE/mvn.log)"
    fi
    ls "$tmp/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null 2>&1 || { rm -rf "$tmp"; die "mvn ran but kafka_2.13-$KAFKA_VERSION.jar is missing"; }
    touch "$tmp/.complete"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    exec 8>&-
    say "fetched $(ls "$LIBS" | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $(($(date +%s) - t0)) s"
}

# Two distinct free loopback ports (listener, controller). The kernel picks them; the
# sockets are closed before the broker binds, so a lost race shows up as a bind error,
# which start() answers by trying again with new ports.
free_ports() {
    python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
'
}

# A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as StorageTool
# random-uuid prints (saves starting a JVM just for that).
cluster_id() {
    python3 -c '
import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break
'
}

write_props() { # write_props PORT CONTROLLER_PORT
    cat >"$PROPS" <<EOF
# generated by scripts/kafka-broker.sh; rewritten at every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$2
listeners=PLAINTEXT://127.0.0.1:$1,CONTROLLER://127.0.0.1:$2
advertised.listeners=PLAINTEXT://127.0.0.1:$1
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
# rows replayed from a pcap carry the capture's (old) timestamps; time-based retention
# would delete them minutes after they arrive. Data lives until the next start or stop.
log.retention.ms=-1
EOF
    if [ -n "${KAFKA_EXTRA_PROPS:-}" ]; then
        printf '%s\n' "# KAFKA_EXTRA_PROPS" "$KAFKA_EXTRA_PROPS" >>"$PROPS"
    fi
}

# wait_ready PID PORT: 0 ready, 2 died on a port already in use, 1 died or timed out.
wait_ready() {
    deadline=$(($(date +%s) + START_TIMEOUT))
    while :; do
        if ! alive "$1"; then
            grep -q "Address already in use" "$LOG" 2>/dev/null && return 2
            say "the broker exited during start-up"
            print_log 80
            return 1
        fi
        if kcat -b "127.0.0.1:$2" -L -m 1 2>/dev/null | grep -q "broker 1 at"; then
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            say "the broker did not serve metadata within $START_TIMEOUT s"
            print_log 80
            return 1
        fi
        sleep 0.3
    done
}

# kill_broker PID: SIGTERM (a clean, controlled shutdown), then SIGKILL after STOP_TIMEOUT.
kill_broker() {
    is_broker "$1" || return 0
    kill -TERM "$1" 2>/dev/null || true
    waited=0
    while is_broker "$1"; do
        if [ "$waited" -ge $((STOP_TIMEOUT * 10)) ]; then
            say "pid $1 still running $STOP_TIMEOUT s after SIGTERM; sending SIGKILL"
            kill -KILL "$1" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

cleanup() { rm -f "$PIDFILE" "$BOOTFILE"; [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$STATE/data"; }

# launch: starts the JVM on $PROPS in the background; sets pid, writes the pid file
launch() {
    # shellcheck disable=SC2086
    java ${KAFKA_HEAP_OPTS:--Xms512m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dkafka.logs.dir="$STATE/logs" \
        -Dlog4j.configuration="file:$ROOT/scripts/kafka/log4j.properties" \
        -cp "$LIBS/*" kafka.Kafka "$PROPS" </dev/null >>"$LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"
}

cmd_pause() {
    KEEP_DATA=1
    cmd_stop
}

cmd_resume() {
    lock
    if running; then
        say "already running (pid $pid) at $(cat "$BOOTFILE")"
        return 0
    fi
    [ -f "$PROPS" ] && [ -d "$STATE/data" ] || die "nothing paused in $STATE (start it first)"
    port=$(sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*|\1|p' "$PROPS")
    [ -n "$port" ] || die "cannot read the port from $PROPS"
    t0=$(date +%s)
    launch
    wait_ready "$pid" "$port" || { print_log 50 >&2; die "could not resume the broker"; }
    echo "127.0.0.1:$port" >"$BOOTFILE"
    say "resumed pid $pid at 127.0.0.1:$port in $(($(date +%s) - t0)) s (state $STATE)"
}

cmd_start() {
    need java
    need kcat
    need python3
    need flock
    lock
    if running; then
        say "already running (pid $pid) at $(cat "$BOOTFILE")"
        return 0
    fi
    cleanup # a pid file left by a broker that died or a machine that rebooted
    fetch
    t0=$(date +%s)
    attempt=1
    while :; do
        set -- $(free_ports)
        port=$1
        cport=$2
        mkdir -p "$STATE/data" "$STATE/logs"
        write_props "$port" "$cport"
        cid=$(cluster_id)
        java -Dlog4j.configuration="file:$ROOT/scripts/kafka/log4j.properties" -cp "$LIBS/*" \
            kafka.tools.StorageTool format -t "$cid" -c "$PROPS" --ignore-formatted >"$STATE/logs/format.log" 2>&1 9>&- ||
            { cat "$STATE/logs/format.log" >&2; die "could not format $STATE/data"; }
        launch
        rc=0
        wait_ready "$pid" "$port" || rc=$?
        [ "$rc" -eq 0 ] && break
        kill_broker "$pid"
        cleanup
        if [ "$rc" -eq 2 ] && [ "$attempt" -lt 3 ]; then
            say "port $port or $cport was taken meanwhile; trying other ports"
            attempt=$((attempt + 1))
            continue
        fi
        die "could not start the broker (state in $STATE)"
    done
    echo "127.0.0.1:$port" >"$BOOTFILE"
    say "started pid $pid at 127.0.0.1:$port in $(($(date +%s) - t0)) s (state $STATE)"
}

cmd_stop() {
    lock
    read_pid
    if ! is_broker "$pid"; then
        say "not running"
        cleanup
        return 0
    fi
    t0=$(date +%s)
    kill_broker "$pid"
    cleanup
    say "stopped pid $pid in $(($(date +%s) - t0)) s"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
pause) cmd_pause ;;
resume) cmd_resume ;;
status)
    if running; then
        echo "kafka-broker: running, pid $pid, KAFKA_BROKERS=$(cat "$BOOTFILE")"
    else
        echo "kafka-broker: not running"
        exit 1
    fi
    ;;
env)
    running || die "not running (scripts/kafka-broker.sh start)"
    echo "KAFKA_BROKERS=$(cat "$BOOTFILE")"
    ;;
fetch) fetch ;;
log) print_log "${2:-200}" ;;
*)
    echo "usage: $0 start|stop|pause|resume|status|env|fetch|log [LINES]" >&2
    exit 2
    ;;
esac
