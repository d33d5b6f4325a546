#!/usr/bin/env bash
# Runs the same `rzk bench` workloads against rzk and against the reference Apache ZooKeeper 3.8
# (Debian's `zookeeper` package) on this machine, alternating the two servers, and prints a table
# of both figures and their ratio (rzk / ZooKeeper). Every run's JSON line goes to a results file.
# With `--client java` the load comes from Apache's own Java client instead (ZkJavaBench, in
# scripts/java-bench/, compiled with javac into the run's directory), so that the client is not
# what makes one server look fast.
#
# Both servers: standalone, 127.0.0.1, data dirs side by side under one directory (same disk),
# forceSync=yes, snapCount default, tickTime=2000, maxClientCnxns=0 (the bench opens thousands of
# sessions from one address), every four-letter word allowed, admin server off. The JVM gets
# -Xmx2g and its default GC (G1 on Java 17 with 2 cores), nothing else. Both keep running for the
# whole comparison; each workload runs on rzk then ZooKeeper, the other way round in even rounds.
#
# Usage: scripts/compare-zookeeper.sh [--quick] [options]
#   --quick                 smoke test: 5 s per workload, 1 round, smaller watch/sessions/load
#   --client rzk|java       the load generator: `rzk bench` (default), or ZkJavaBench on Apache's
#                           Java client (zookeeper.jar; needs javac), which runs create, set, get
#                           and mixed only
#   --java-socket nio|netty  --client java: the client's connection class (zookeeper.
#                           clientCnxnSocket), ClientCnxnSocketNIO (the client's default) or
#                           ClientCnxnSocketNetty (Debian's libnetty-java, which zookeeper pulls in)
#   --workloads LIST        comma-separated, from create,set,get,mixed,watch,sessions,detached,
#                           load (default: all of them, in that order; with --client java
#                           create,set,get,mixed)
#   --rounds N              rzk/ZooKeeper alternations of every workload (default 3)
#   --duration S            measured seconds of create/set/get/mixed (default 30)
#   --warmup S              unmeasured warm-up before each of those (default 5)
#   --sessions N            sessions of create/set/get/mixed/load (default 8)
#   --outstanding K         requests in flight per session (default 16)
#   --rate R                create/set/get/mixed as an open loop offering R ops/s in all (latency
#                           from each request's scheduled time; compares tails at the same load;
#                           each round's p99 is listed under the table as well)
#   --lag-void-us US        --rate: a run whose bench sent late by more than US at p99 (send lag:
#                           the bench itself, or the whole VM, stalled) is left out of the medians
#                           and counted in the row "void runs" (default 2000; 0 keeps every run)
#   --disk-floor            --rate: in every round, after the two servers' runs of create, set,
#                           get and mixed, run `rzk bench disk` in the same directory with the
#                           same schedule (no server: paced writes of a txn's size, group
#                           commit, one fdatasync per batch): the latency the disk alone gives
#                           at that load, printed in a table of its own (label "disk")
#   --value-bytes B         bytes per value (default 100)
#   --read-percent P        reads in mixed (default 90)
#   --watchers K            watching sessions in watch (default 10000)
#   --watch-rounds R        measured sets in watch (default 10)
#   --session-count K       sessions opened in sessions (default 10000)
#   --detached-count K      sessions opened in detached (default 100000): each connection closes
#                           after its handshake, the session stays on the server until its
#                           timeout (40 s, the servers' maximum); the servers' own count (mntr
#                           zk_global_sessions) is the figure, so the bench's open-file limit
#                           does not bound it
#   --load-nodes N          nodes created by load (default 1000000)
#   --heap SIZE             the JVM's -Xmx (default 2g)
#   --dir DIR               where data dirs, configs and logs go (default: a new temp dir, removed
#                           at the end unless --keep)
#   --results FILE          JSON lines of every run (default: <target dir>/compare-zookeeper/
#                           results-<time>.jsonl; the table is saved beside it as .txt)
#   --keep                  keep the temp dir
# Memory figures (rss) include whatever the workloads before them left in the servers: for the
# memory comparison run `--workloads load` (or `--workloads sessions`) alone, on fresh servers.
# The JVM's resident size barely moves within its heap, so its "rss per node/session" only means
# something against a fresh start.
# Environment: CARGO_TARGET_DIR is honoured; RZK_BENCH overrides the bench command of
# --client rzk (default `rzk bench`); JAVA and JAVAC name the java and javac commands.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

workloads="" client=rzk java_socket=nio
rounds=3 duration=30 warmup=5 sessions=8 outstanding=16 value_bytes=100 read_percent=90 rate= lag_void_us=2000
watchers=10000 watch_rounds=10 session_count=10000 detached_count=100000 load_nodes=1000000 heap=2g
dir="" results="" keep=0 disk_floor=0
for a in "$@"; do
  if [ "$a" = --quick ]; then
    rounds=1 duration=5 warmup=1 watchers=1000 watch_rounds=3 session_count=2000 detached_count=5000 load_nodes=100000
  fi
done
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ;;
    --workloads) workloads=$2; shift ;;
    --client) client=$2; shift ;;
    --java-socket) java_socket=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --sessions) sessions=$2; shift ;;
    --outstanding) outstanding=$2; shift ;;
    --rate) rate=$2; shift ;;
    --lag-void-us) lag_void_us=$2; shift ;;
    --disk-floor) disk_floor=1 ;;
    --value-bytes) value_bytes=$2; shift ;;
    --read-percent) read_percent=$2; shift ;;
    --watchers) watchers=$2; shift ;;
    --watch-rounds) watch_rounds=$2; shift ;;
    --session-count) session_count=$2; shift ;;
    --detached-count) detached_count=$2; shift ;;
    --load-nodes) load_nodes=$2; shift ;;
    --heap) heap=$2; shift ;;
    --dir) dir=$2; shift ;;
    --results) results=$2; shift ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-zookeeper: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

case $client in
  rzk) workloads=${workloads:-create,set,get,mixed,watch,sessions,load,detached} ;;
  java)
    workloads=${workloads:-create,set,get,mixed}
    IFS=, read -r -a wl <<<"$workloads"
    for w in "${wl[@]}"; do
      case $w in
        create | set | get | mixed) ;;
        *) echo "compare-zookeeper: --client java runs create, set, get and mixed only, not $w" \
          "(use --client rzk for it)" >&2; exit 2 ;;
      esac
    done
    ;;
  *) echo "compare-zookeeper: --client takes rzk or java, not $client" >&2; exit 2 ;;
esac
case $java_socket in
  nio | netty) ;;
  *) echo "compare-zookeeper: --java-socket takes nio or netty, not $java_socket" >&2; exit 2 ;;
esac

ZK_JAR=/usr/share/java/zookeeper.jar
SLF4J_JAR=/usr/share/java/slf4j-simple.jar
JAVA=${JAVA:-/usr/bin/java}
for f in "$ZK_JAR" "$JAVA"; do
  [ -e "$f" ] || { echo "compare-zookeeper: $f missing: apt-get install zookeeper (Debian's package)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "compare-zookeeper: jq missing: apt-get install jq" >&2; exit 1; }
classpath=$ZK_JAR
[ -e "$SLF4J_JAR" ] && classpath="$ZK_JAR:$SLF4J_JAR"

# ---- build ----
target=${CARGO_TARGET_DIR:-$root/target}
echo "building rzk (release) ..." >&2
cargo build --release -q -p rzk >&2
rzk=$target/release/rzk

# ---- directories, cleanup ----
if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/rzk-compare.XXXXXX")
  temp_dir=1
else
  mkdir -p "$dir"
  temp_dir=0
fi
if [ -z "$results" ]; then
  mkdir -p "$target/compare-zookeeper"
  results=$target/compare-zookeeper/results-$(date +%Y%m%d-%H%M%S).jsonl
fi
: >"$results"
bench_log=$dir/bench.log
if [ "$client" = java ]; then
  # Apache's client: ZkJavaBench compiled once into the run's dir; slf4j-simple (when installed)
  # prints the client's warnings into the bench log.
  JAVAC=${JAVAC:-javac}
  command -v "$JAVAC" >/dev/null || { echo "compare-zookeeper: $JAVAC missing: install a JDK (openjdk-17-jdk-headless)" >&2; exit 1; }
  echo "compiling ZkJavaBench ..." >&2
  "$JAVAC" -d "$dir/java-bench" -cp "$ZK_JAR" "$root/scripts/java-bench/ZkJavaBench.java" >&2
  if [ "$java_socket" = netty ]; then
    # The jars ClientCnxnSocketNetty loads (Debian's libnetty-java).
    for j in buffer codec common handler resolver transport transport-native-epoll transport-native-unix-common; do
      [ -e "/usr/share/java/netty-$j.jar" ] ||
        { echo "compare-zookeeper: /usr/share/java/netty-$j.jar missing: apt-get install libnetty-java" >&2; exit 1; }
      classpath="$classpath:/usr/share/java/netty-$j.jar"
    done
  fi
  bench=("$JAVA" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$dir/java-bench:$classpath" ZkJavaBench
    --socket "$java_socket")
  bench_tool=zk-java-bench
elif [ -n "${RZK_BENCH:-}" ]; then
  read -r -a bench <<<"$RZK_BENCH"
  bench_tool=rzk-bench
else
  bench=("$rzk" bench)
  bench_tool=rzk-bench
fi
rzk_pid="" zk_pid=""
cleanup() {
  for p in $rzk_pid $zk_pid; do
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "$temp_dir" = 1 ] && [ "$keep" = 0 ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The sessions and watch workloads hold thousands of sockets in the bench and in the servers.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- servers ----
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below the kernel's ephemeral range: the bench's own connections (tens of thousands, left in
# TIME_WAIT when it closes them) then never hold the port a server is about to bind.
ephemeral_low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % (ephemeral_low - 10000)))
    if port_free "$p"; then echo "$p"; return; fi
  done
}
four_letter() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf '%s' "$2" >&3 && timeout 2 cat <&3) 2>/dev/null; }
wait_serving() { # port pid name
  local i
  for i in $(seq 1 900); do
    if four_letter "$1" srvr | grep -q 'Mode: '; then return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "compare-zookeeper: $3 did not start; its log:" >&2
  tail -n 40 "$dir/$3/server.log" >&2
  exit 1
}
write_cfg() { # name port
  mkdir -p "$dir/$1/data"
  cat >"$dir/$1/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/$1/data
clientPort=$2
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
forceSync=yes
EOF
}

rzk_port=$(pick_port)
write_cfg rzk "$rzk_port"
"$rzk" server "$dir/rzk/zoo.cfg" >"$dir/rzk/server.log" 2>&1 &
rzk_pid=$!
zk_port=$(pick_port)
while [ "$zk_port" = "$rzk_port" ]; do zk_port=$(pick_port); done
write_cfg zookeeper "$zk_port"
"$JAVA" "-Xmx$heap" "-Dzookeeper.log.dir=$dir/zookeeper" -cp "$classpath" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zookeeper/zoo.cfg" >"$dir/zookeeper/server.log" 2>&1 &
zk_pid=$!
wait_serving "$rzk_port" "$rzk_pid" rzk
wait_serving "$zk_port" "$zk_pid" zookeeper

gc=$("$JAVA" "-Xmx$heap" -XX:+PrintFlagsFinal -version 2>/dev/null |
  awk '$2 ~ /^Use(G1|Serial|Parallel|Z|Shenandoah)GC$/ && $4 == "true" {print $2}')
{
  echo "# rzk vs Apache ZooKeeper, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)"
  echo "# rzk: $("$rzk" version 2>/dev/null | head -1)  pid $rzk_pid  port $rzk_port"
  echo "# zookeeper: $(four_letter "$zk_port" srvr | head -1)  pid $zk_pid  port $zk_port"
  echo "# jvm: $("$JAVA" -version 2>&1 | head -1), -Xmx$heap, ${gc:-default GC}"
  echo "# data: $dir ($(df -P "$dir" | awk 'NR==2 {print $1}'))"
  [ "$client" = rzk ] ||
    echo "# client: Apache's Java client $("$JAVA" -cp "$ZK_JAR" org.apache.zookeeper.Version 2>/dev/null | head -1) ($ZK_JAR), $java_socket socket"
  echo "# bench: ${bench[*]}; $sessions sessions x $outstanding outstanding${rate:+, open loop at $rate ops/s}, $value_bytes B values," \
    "${duration}s measured after ${warmup}s warm-up, $rounds round(s)"
} | tee "${results%.jsonl}.txt" >&2

# ---- runs ----
run_one() { # label port pid workload
  local label=$1 port=$2 pid=$3 w=$4 line
  local args=(--server "127.0.0.1:$port" --server-pid "$pid" --label "$label" --json
    --sessions "$sessions" --outstanding "$outstanding" --value-bytes "$value_bytes")
  case $w in create | set | get | mixed) [ -z "$rate" ] || args+=(--rate "$rate") ;; esac
  case $w in
    create | set | get) args+=("$w" --duration "$duration" --warmup "$warmup") ;;
    mixed) args+=(mixed --read-percent "$read_percent" --duration "$duration" --warmup "$warmup") ;;
    watch) args+=(watch --watchers "$watchers" --rounds "$watch_rounds" --warmup 1 --source-ips 16) ;;
    sessions) args+=(sessions --count "$session_count" --hold 1 --source-ips 16) ;;
    detached) args+=(--session-timeout-ms 40000 sessions --count "$detached_count" --detach --source-ips 16) ;;
    load) args+=(load --nodes "$load_nodes") ;;
    *) echo "compare-zookeeper: unknown workload $w" >&2; exit 2 ;;
  esac
  echo "  $w on $label ..." >&2
  if line=$("${bench[@]}" "${args[@]}" 2>>"$bench_log") && [ -n "$line" ]; then
    # detached runs are `sessions --detach`; named apart in the results for the table.
    [ "$w" = detached ] && line=$(jq -c '.workload = "detached"' <<<"$line")
    echo "$line" >>"$results"
  else
    echo "  $w on $label failed (see $bench_log):" >&2
    tail -n 3 "$bench_log" >&2
    jq -cn --arg t "$bench_tool" --arg l "$label" --arg w "$w" '{tool: $t, workload: $w, label: $l, failed: true}' >>"$results"
  fi
  kill -0 "$pid" 2>/dev/null || { echo "compare-zookeeper: $label died; log in $dir/$label" >&2; keep=1; exit 1; }
  # The detached sessions expire after 40 s, each a closeSession the server logs: wait for that
  # (polling mntr, at most 3 minutes) so that it does not run during the other server's turn.
  if [ "$w" = detached ]; then
    local n deadline=$((SECONDS + 180))
    while n=$(four_letter "$port" mntr | awk '$1 == "zk_global_sessions" { print $2 }') &&
      [ "${n:-0}" -gt 0 ] && [ $SECONDS -lt $deadline ]; do
      sleep 1
    done
  fi
}

# The disk's own latency at the run's schedule (`rzk bench disk`, always rzk's bench).
run_floor() { # workload
  local w=$1 line reads=0
  case $w in get) reads=100 ;; mixed) reads=$read_percent ;; create | set) ;; *) return 0 ;; esac
  echo "  $w: disk floor ..." >&2
  if line=$("$rzk" bench --json --label disk --rate "$rate" --value-bytes "$value_bytes" \
    disk --dir "$dir" --read-percent "$reads" --duration "$duration" --warmup "$warmup" 2>>"$bench_log"); then
    jq -c --arg w "$w" '.workload = $w' <<<"$line" >>"$results"
  else
    echo "  $w: disk floor failed (see $bench_log)" >&2
  fi
}

if [ "$disk_floor" = 1 ] && [ -z "$rate" ]; then
  echo "compare-zookeeper: --disk-floor needs --rate" >&2
  exit 2
fi

IFS=, read -r -a wl <<<"$workloads"
for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds" >&2
  for w in "${wl[@]}"; do
    if [ $((r % 2)) = 1 ]; then
      run_one rzk "$rzk_port" "$rzk_pid" "$w"
      run_one zookeeper "$zk_port" "$zk_pid" "$w"
    else
      run_one zookeeper "$zk_port" "$zk_pid" "$w"
      run_one rzk "$rzk_port" "$rzk_pid" "$w"
    fi
    [ "$disk_floor" = 0 ] || run_floor "$w"
  done
done

# ---- table: the median over rounds of each figure, per server ----
# jq definitions the tables share: the median of the non-null values, and a void run (the bench
# sent late by more than --lag-void-us at p99; $lagmax).
jq_defs='
  def median: map(select(. != null)) | sort
    | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
      else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def void: $lagmax > 0 and (.send_lag_us.p99 // 0) > $lagmax;
'
table=$(jq -rs --arg order "$workloads" --argjson lagmax "$lag_void_us" "$jq_defs"'
  def pct($x): if $x == null or (.wall_s // 0) == 0 then null else 100 * $x / .wall_s end;
  def metrics:
    (if .workload == "watch" then
       [["fan-out ms p50", "lower", .fanout_ms.p50], ["notify p99 us", "lower", .latency_us.p99]]
     elif .workload == "sessions" then
       [["connects/s", "higher", .ops_per_s], ["connect p99 us", "lower", .latency_us.p99],
        ["rss MiB", "lower", (if .server_rss_kb then .server_rss_kb / 1024 else null end)],
        ["rss KiB/session", "lower",
         (if .server_rss_kb and .server_rss_before_kb and .ops > 0
          then (.server_rss_kb - .server_rss_before_kb) / .ops else null end)]]
     elif .workload == "detached" then
       [["sessions held", "higher", .server_sessions], ["connects/s", "higher", .ops_per_s],
        ["rss MiB", "lower", (if .server_rss_kb then .server_rss_kb / 1024 else null end)],
        ["rss KiB/session", "lower",
         (if .server_rss_kb and .server_rss_before_kb and .ops > 0
          then (.server_rss_kb - .server_rss_before_kb) / .ops else null end)]]
     elif .workload == "load" then
       [["creates/s", "higher", .ops_per_s],
        ["rss MiB", "lower", (if .server_rss_kb then .server_rss_kb / 1024 else null end)],
        ["rss B/node", "lower",
         (if .server_rss_kb and .server_rss_before_kb and .ops > 0
          then (.server_rss_kb - .server_rss_before_kb) * 1024 / .ops else null end)]]
     else
       [["ops/s", "higher", .ops_per_s], ["p50 us", "lower", .latency_us.p50],
        ["p99 us", "lower", .latency_us.p99], ["p999 us", "lower", .latency_us.p999]]
       + (if .send_lag_us then [["send lag p99 us", "lower", .send_lag_us.p99]] else [] end)
     end)
    + [["server cpu %", "-", pct(.server_cpu_s)], ["bench cpu %", "-", pct(.client_cpu_s)],
       ["errors", "lower", .errors]];
  . as $runs
  | ($order | split(",")) as $ws
  | $ws[] as $w
  | [$runs[] | select(.workload == $w and (.failed | not))] as $done
  | [$done[] | select(void | not)] as $ok
  | ([$done[] | metrics] | first // []) as $shape
  | ((range(0; $shape | length) as $i
      | [$w, $shape[$i][0], $shape[$i][1],
         ([$ok[] | select(.label == "rzk") | metrics[$i][2]] | median),
         ([$ok[] | select(.label == "zookeeper") | metrics[$i][2]] | median)]),
     (if any($done[]; .send_lag_us) and $lagmax > 0 then
        [$w, "void runs", "-", ([$done[] | select(.label == "rzk" and void)] | length),
         ([$done[] | select(.label == "zookeeper" and void)] | length)]
      else empty end))
  | map(if . == null then "-" else tostring end) | @tsv' "$results")

fmt() {
  if [ "$1" = - ]; then echo -; return; fi
  awk -v x="$1" 'BEGIN { a = x < 0 ? -x : x
    if (x == int(x) || a >= 100) printf "%.0f", x; else if (a >= 10) printf "%.1f", x; else printf "%.2f", x }'
}
{
  printf '%-9s %-16s %-7s %12s %12s %8s\n' workload figure better rzk zookeeper rzk/zk
  while IFS=$'\t' read -r w fig better a b; do
    ratio=-
    if [ "$a" != - ] && [ "$b" != - ] && [ "$fig" != "void runs" ]; then
      ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b != 0) printf "%.2f", a / b; else print "-" }')
    fi
    printf '%-9s %-16s %-7s %12s %12s %8s\n' "$w" "$fig" "$better" "$(fmt "$a")" "$(fmt "$b")" "$ratio"
  done <<<"$table"
} | tee -a "${results%.jsonl}.txt"

# Open loop: each round's p99 side by side (a p99 moves a lot between runs on a shared VM; the
# medians above hide how much).
if [ -n "$rate" ]; then
  jq -rs --arg order "$workloads" --argjson lagmax "$lag_void_us" "$jq_defs"'
    def ms: if . == null then "-" else (. / 100 | round / 10 | tostring) end;
    def cell: if . == null then "-" else (.latency_us.p99 | ms) + (if void then "*" else "" end) end;
    . as $runs | ($order | split(","))[] as $w
    | [$runs[] | select(.workload == $w and (.failed | not))] as $done
    | [$done[] | select(.label == "rzk")] as $a | [$done[] | select(.label == "zookeeper")] as $b
    | [$done[] | select(.label == "disk")] as $d
    | select($a | length > 0)
    | "\($w): " + ([range(0; [$a, $b] | map(length) | max) as $i
        | ($a[$i] | cell) + " / " + ($b[$i] | cell)
          + (if ($d | length) > 0 then " / " + ($d[$i] | cell) else "" end)] | join(", "))' "$results" |
    {
      echo
      if [ "$disk_floor" = 1 ]; then
        echo "p99 ms by round: rzk / zookeeper / disk alone (* = void run)"
      else
        echo "p99 ms by round: rzk / zookeeper (* = void run)"
      fi
      cat
    } | tee -a "${results%.jsonl}.txt"
fi

if [ "$disk_floor" = 1 ]; then
  jq -rs --arg order "$workloads" --argjson lagmax "$lag_void_us" "$jq_defs"'
    . as $runs | ($order | split(","))[] as $w
    | [$runs[] | select(.label == "disk" and .workload == $w and (void | not))] as $ok
    | select([$runs[] | select(.label == "disk" and .workload == $w)] | length > 0)
    | [$w, ($ok | map(.latency_us.p50) | median), ($ok | map(.latency_us.p90) | median),
       ($ok | map(.latency_us.p99) | median), ($ok | map(.latency_us.p999) | median),
       ([$runs[] | select(.label == "disk" and .workload == $w and void)] | length)]
    | map(if . == null then "-" else tostring end) | @tsv' "$results" |
    {
      echo
      echo "disk floor: rzk bench disk, no server, same directory and schedule (median of runs)"
      printf '%-9s %9s %9s %9s %9s %10s\n' workload "p50 us" "p90 us" "p99 us" "p999 us" "void runs"
      while IFS=$'\t' read -r w a b c d v; do
        printf '%-9s %9s %9s %9s %9s %10s\n' "$w" "$(fmt "$a")" "$(fmt "$b")" "$(fmt "$c")" "$(fmt "$d")" "$v"
      done
    } | tee -a "${results%.jsonl}.txt"
fi
echo "results: $results (table: ${results%.jsonl}.txt)" >&2
