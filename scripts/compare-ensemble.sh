#!/usr/bin/env bash
# Runs the same `rzk bench` workloads against a 3-member rzk ensemble and against a 3-member
# reference Apache ZooKeeper 3.8 ensemble (Debian's `zookeeper` package) on this machine, with the
# clients on the leader and, separately, on a follower, and prints a table of both figures and
# their ratio (rzk / ZooKeeper). Every run's JSON line goes to a results file.
#
# Both ensembles: 3 members on 127.0.0.1 (client, quorum and election ports all distinct),
# `server.N=127.0.0.1:quorum:election` lines and data/myid, data dirs side by side under one
# directory (same disk), forceSync=yes, snapCount default, tickTime=2000 initLimit=10 syncLimit=5,
# maxClientCnxns=0, every four-letter word allowed, admin server off. Each JVM gets -Xmx2g and its
# default GC (G1 on Java 17 with 2 cores), nothing else. Only one ensemble runs at a time: each
# round starts one ensemble on empty data dirs, runs every workload on it (leader, then follower;
# the members' modes are read with `srvr` before each run), stops it (kill -9) and removes its data,
# then does the same with the other ensemble; rzk goes first in odd rounds, ZooKeeper in even ones.
#
# failover (its own phase, after the rounds, rzk then ZooKeeper; needs kazoo, see below): a fresh
# ensemble of each kind with tickTime=500 (--failover-tick; initLimit=10 syncLimit=5 as above), so
# that failures are noticed as quickly as in the tests. Python kazoo sessions, spread over all three
# members (each lists its own member first), create nodes in a loop, one synchronous create each
# (kazoo reconnect delay 20 ms, no backoff, session timeout 10 s). After a steady warm-up the leader
# is killed (kill -9), and the time from the kill until the first create issued after it is
# acknowledged is taken ("first write"), as well as until every session has had one acknowledged
# ("all sessions"), and until a surviving member answers `srvr` as leader ("new leader"). Every
# acknowledged create is then checked to exist ("lost writes"). The killed member is started again
# on its data dir and must rejoin (srvr: follower; "rejoin s") and reach the others' zxid and node
# count before the next repeat, which kills the then leader.
#
# Usage: scripts/compare-ensemble.sh [--quick] [options]
#   --quick                 smoke test: 5 s per workload, 1 round, 2 failover repeats
#   --workloads LIST        comma-separated, from create,set,get,mixed,failover
#                           (default: all of them)
#   --rounds N              rzk/ZooKeeper alternations of the bench workloads (default 3)
#   --duration S            measured seconds of each bench run (default 30)
#   --warmup S              unmeasured warm-up before each (default 5)
#   --sessions N            bench sessions (default 8)
#   --outstanding K         requests in flight per session (default 16)
#   --value-bytes B         bytes per value (default 100)
#   --read-percent P        reads in mixed (default 90)
#   --targets LIST          where the bench's sessions connect: leader,follower (default both)
#   --failover-repeats N    leader kills per ensemble (default 5)
#   --failover-sessions K   kazoo sessions writing during failover (default 6, spread over members)
#   --failover-warmup S     steady load before each kill (default 3)
#   --failover-tick MS      tickTime of the failover ensembles (default 500)
#   --max-other-cpu PCT     before each run, wait (up to --quiet-wait S, default 60) until the
#                           processes other than the ensemble and this script use at most PCT % of
#                           one core (default 25; 0 disables the wait); each run records what they
#                           used during it ("other cpu %")
#   --heap SIZE             each JVM's -Xmx (default 2g)
#   --dir DIR               where data dirs, configs and logs go (default: a new temp dir, removed
#                           at the end unless --keep)
#   --results FILE          JSON lines of every run (default: <target dir>/compare-ensemble/
#                           results-<time>.jsonl; the table is saved beside it as .txt)
#   --keep                  keep the temp dir (the members' logs of every round are kept in it, under
#                           logs/; data dirs are removed after each round either way)
# Figures: the median over rounds. "member cpu %" is the CPU of the member the clients are on over
# the measured interval; "ensemble cpu %" the three members' CPU over the whole bench run (set-up and
# warm-up included), as a share of one core (the machine has `nproc` cores); "other cpu %" the rest
# of the machine's busy time over the same interval (other processes: a shared machine's noise).
# Environment: CARGO_TARGET_DIR is honoured; RZK_BENCH overrides the bench command (default
# `rzk bench`); RZK_KAZOO_PYTHON the Python that has kazoo (default .venv/bin/python, which
# scripts/test.sh makes).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

workloads=create,set,get,mixed,failover
rounds=3 duration=30 warmup=5 sessions=8 outstanding=16 value_bytes=100 read_percent=90 heap=2g
targets=leader,follower
fo_repeats=5 fo_sessions=6 fo_warmup=3 fo_tick=500 max_other=25 quiet_wait=60
dir="" results="" keep=0
for a in "$@"; do
  if [ "$a" = --quick ]; then
    rounds=1 duration=5 warmup=1 fo_repeats=2
  fi
done
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ;;
    --workloads) workloads=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --sessions) sessions=$2; shift ;;
    --outstanding) outstanding=$2; shift ;;
    --value-bytes) value_bytes=$2; shift ;;
    --read-percent) read_percent=$2; shift ;;
    --targets) targets=$2; shift ;;
    --failover-repeats) fo_repeats=$2; shift ;;
    --failover-sessions) fo_sessions=$2; shift ;;
    --failover-warmup) fo_warmup=$2; shift ;;
    --failover-tick) fo_tick=$2; shift ;;
    --max-other-cpu) max_other=$2; shift ;;
    --quiet-wait) quiet_wait=$2; shift ;;
    --heap) heap=$2; shift ;;
    --dir) dir=$2; shift ;;
    --results) results=$2; shift ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-ensemble: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

IFS=, read -r -a wl_all <<<"$workloads"
bench_wl=() do_failover=0
for w in "${wl_all[@]}"; do
  case $w in
    create | set | get | mixed) bench_wl+=("$w") ;;
    failover) do_failover=1 ;;
    *) echo "compare-ensemble: unknown workload $w" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a target_list <<<"$targets"
for t in "${target_list[@]}"; do
  case $t in leader | follower) ;; *) echo "compare-ensemble: unknown target $t" >&2; exit 2 ;; esac
done

ZK_JAR=/usr/share/java/zookeeper.jar
SLF4J_JAR=/usr/share/java/slf4j-simple.jar
JAVA=${JAVA:-/usr/bin/java}
for f in "$ZK_JAR" "$JAVA"; do
  [ -e "$f" ] || { echo "compare-ensemble: $f missing: apt-get install zookeeper (Debian's package)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "compare-ensemble: jq missing: apt-get install jq" >&2; exit 1; }
classpath=$ZK_JAR
[ -e "$SLF4J_JAR" ] && classpath="$ZK_JAR:$SLF4J_JAR"
python=${RZK_KAZOO_PYTHON:-$root/.venv/bin/python}
if [ "$do_failover" = 1 ] && ! "$python" -c 'import kazoo' 2>/dev/null; then
  echo "compare-ensemble: failover needs kazoo: run scripts/test.sh (it makes .venv) or set RZK_KAZOO_PYTHON" >&2
  exit 1
fi

# ---- build ----
target=${CARGO_TARGET_DIR:-$root/target}
echo "building rzk (release) ..." >&2
cargo build --release -q -p rzk >&2
rzk=$target/release/rzk
if [ -n "${RZK_BENCH:-}" ]; then
  read -r -a bench <<<"$RZK_BENCH"
else
  bench=("$rzk" bench)
fi

# ---- directories, cleanup ----
if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/rzk-compare-ensemble.XXXXXX")
  temp_dir=1
else
  mkdir -p "$dir"
  temp_dir=0
fi
if [ -z "$results" ]; then
  mkdir -p "$target/compare-ensemble"
  results=$target/compare-ensemble/results-$(date +%Y%m%d-%H%M%S).jsonl
fi
: >"$results"
mkdir -p "$dir/logs"
bench_log=$dir/logs/bench.log
failover_log=$dir/logs/failover.log
declare -A pid=() client_port=() quorum_port=() election_port=() starts=()
cleanup() {
  local k
  for k in "${!pid[@]}"; do
    [ -n "${pid[$k]}" ] || continue
    kill -KILL "${pid[$k]}" 2>/dev/null || true
    wait "${pid[$k]}" 2>/dev/null || true
  done
  if [ "$temp_dir" = 1 ] && [ "$keep" = 0 ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "compare-ensemble: $*; logs kept in $dir/logs" >&2; keep=1; exit 1; }

# ---- members ----
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
used_ports=" "
pick_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    case $used_ports in *" $p "*) continue ;; esac
    if port_free "$p"; then used_ports+="$p "; echo "$p"; return; fi
  done
}
for kind in rzk zookeeper; do
  for id in 1 2 3; do
    # (not in a subshell: pick_port records the ports it handed out)
    pick_port >"$dir/.port"; client_port[$kind$id]=$(<"$dir/.port")
    pick_port >"$dir/.port"; quorum_port[$kind$id]=$(<"$dir/.port")
    pick_port >"$dir/.port"; election_port[$kind$id]=$(<"$dir/.port")
    pid[$kind$id]="" starts[$kind$id]=0
  done
done
rm -f "$dir/.port"

four_letter() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf '%s' "$2" >&3 && timeout 2 cat <&3) 2>/dev/null || true; }
mode_of() { four_letter "${client_port[$1$2]}" srvr | sed -n 's/^Mode: //p' | tr -d '\r'; }
srvr_field() { four_letter "${client_port[$1$2]}" srvr | sed -n "s/^$3: //p" | tr -d '\r'; }

write_cfg() { # kind id tick
  local d=$dir/$1/m$2 i
  mkdir -p "$d/data"
  echo "$2" >"$d/data/myid"
  {
    cat <<EOF
tickTime=$3
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=${client_port[$1$2]}
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
forceSync=yes
EOF
    for i in 1 2 3; do
      echo "server.$i=127.0.0.1:${quorum_port[$1$i]}:${election_port[$1$i]}"
    done
  } >"$d/zoo.cfg"
}

member_log() { echo "$dir/logs/$1-m$2-$phase.log"; }
start_member() { # kind id  (on its existing dir; each start appends to the phase's log)
  local d=$dir/$1/m$2 log
  log=$(member_log "$1" "$2")
  starts[$1$2]=$((starts[$1$2] + 1))
  echo "---- start ${starts[$1$2]} at $(date -u +%H:%M:%S.%N) ----" >>"$log"
  if [ "$1" = rzk ]; then
    NO_COLOR=1 "$rzk" server "$d/zoo.cfg" >>"$log" 2>&1 &
  else
    "$JAVA" "-Xmx$heap" "-Dzookeeper.log.dir=$d" -cp "$classpath" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" >>"$log" 2>&1 &
  fi
  pid[$1$2]=$!
}
kill_member() { # kind id
  [ -n "${pid[$1$2]}" ] || return 0
  kill -KILL "${pid[$1$2]}" 2>/dev/null || true
  wait "${pid[$1$2]}" 2>/dev/null || true
  pid[$1$2]=""
}
alive() { [ -n "${pid[$1$2]}" ] && kill -0 "${pid[$1$2]}" 2>/dev/null; }

# Polls until all three serve with exactly one leader; sets leader/follower (ids).
leader="" follower=""
find_modes() { # kind timeout_s -> 0 when found
  local kind=$1 deadline=$((SECONDS + $2)) id m ls fs la fa
  while :; do
    ls="" fs=""
    for id in 1 2 3; do
      alive "$kind" "$id" || die "$kind member $id is not running"
      m=$(mode_of "$kind" "$id")
      case $m in leader) ls+="$id " ;; follower) fs+="$id " ;; esac
    done
    read -r -a la <<<"$ls"; read -r -a fa <<<"$fs"
    if [ "${#la[@]}" = 1 ] && [ "${#fa[@]}" = 2 ]; then
      leader=${la[0]} follower=${fa[0]}
      return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

phase=""
start_ensemble() { # kind tick
  local id
  rm -rf "${dir:?}/$1"
  for id in 1 2 3; do write_cfg "$1" "$id" "$2"; done
  for id in 1 2 3; do start_member "$1" "$id"; done
  if ! find_modes "$1" 120; then
    for id in 1 2 3; do
      echo "-- $1 member $id (mode '$(mode_of "$1" "$id")'), $(member_log "$1" "$id"):" >&2
      tail -n 15 "$(member_log "$1" "$id")" >&2
    done
    die "the $1 ensemble did not form within 120 s"
  fi
  echo "  $1 ensemble up: leader m$leader (pids ${pid[${1}1]} ${pid[${1}2]} ${pid[${1}3]})" >&2
}
stop_ensemble() { # kind
  local id
  for id in 1 2 3; do kill_member "$1" "$id"; done
  rm -rf "${dir:?}/$1"
}

cpu_ticks() { # pids... -> utime+stime summed (clock ticks)
  local p t=0 v
  for p in "$@"; do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
clk_tck=$(getconf CLK_TCK)
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
# cpu_snapshot VAR pid...: VAR="machine members children seconds" (ticks: the whole machine's busy
# time, the given members', this shell's reaped children's (the bench, the failover client); `times`
# must run in this shell, not in a $(...))
cpu_snapshot() {
  local ch v=$1
  shift
  times >"$dir/.times"
  ch=$(tail -n 1 "$dir/.times" | awk -v t="$clk_tck" '{
    s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } printf "%d", s * t }')
  printf -v "$v" '%s %s %s %s' "$(machine_ticks)" "$(cpu_ticks "$@")" "$ch" "$(date +%s.%N)"
}
ensemble_pids() { echo "${pid[${1}1]} ${pid[${1}2]} ${pid[${1}3]}"; }
other_pct() { # snapshot_before snapshot_after [more ticks of ours] -> % of one core used by others
  awk -v a="$1" -v b="$2" -v e="${3:-0}" -v t="$clk_tck" 'BEGIN { split(a, x, " "); split(b, y, " ")
    o = (y[1] - x[1]) - (y[2] - x[2]) - (y[3] - x[3]) - e; w = y[4] - x[4]
    if (o < 0) o = 0; printf "%.1f", (w > 0 ? 100 * o / t / w : 0) }'
}
wait_quiet() { # kind: until other processes use <= max_other % of a core (sampled over 1 s)
  [ "$max_other" != 0 ] || return 0
  local s0 s1 o start=$SECONDS
  while :; do
    # shellcheck disable=SC2046
    cpu_snapshot s0 $(ensemble_pids "$1"); sleep 1; cpu_snapshot s1 $(ensemble_pids "$1")
    o=$(other_pct "$s0" "$s1")
    if awk -v o="$o" -v m="$max_other" 'BEGIN { exit !(o <= m) }'; then
      [ $((SECONDS - start)) -le 1 ] || echo "    (waited $((SECONDS - start)) s for other processes to calm down)" >&2
      return 0
    fi
    if [ $((SECONDS - start)) -ge "$quiet_wait" ]; then
      echo "    (other processes still use $o % of a core after ${quiet_wait} s; going on)" >&2
      return 0
    fi
  done
}

gc=$("$JAVA" "-Xmx$heap" -XX:+PrintFlagsFinal -version 2>/dev/null |
  awk '$2 ~ /^Use(G1|Serial|Parallel|Z|Shenandoah)GC$/ && $4 == "true" {print $2}')
zk_version=$(unzip -p "$ZK_JAR" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Implementation-Version: //p' | tr -d '\r')
{
  echo "# rzk ensemble vs Apache ZooKeeper ensemble (3 members each), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)," \
    "load avg $(cut -d' ' -f1-3 /proc/loadavg) at start"
  echo "# rzk: $("$rzk" version 2>/dev/null | head -1)"
  echo "# zookeeper: ${zk_version:-$(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null)}," \
    "jvm $("$JAVA" -version 2>&1 | head -1), -Xmx$heap, ${gc:-default GC}"
  echo "# data: $dir ($(df -P "$dir" | awk 'NR==2 {print $1}')), forceSync=yes, tickTime=2000" \
    "(failover: tickTime=$fo_tick), initLimit=10 syncLimit=5"
  if [ "${#bench_wl[@]}" -gt 0 ]; then
    echo "# bench: ${bench[*]}; $sessions sessions x $outstanding outstanding, $value_bytes B values," \
      "${duration}s measured after ${warmup}s warm-up, on ${targets}, $rounds round(s)"
  fi
  if [ "$do_failover" = 1 ]; then
    echo "# failover: $fo_repeats leader kill(s) per ensemble, $fo_sessions kazoo sessions" \
      "($("$python" -c 'import kazoo.version as v; print("kazoo", v.__version__)')), ${fo_warmup}s steady load before each kill"
  fi
} | tee "${results%.jsonl}.txt" >&2

# ---- bench runs ----
run_one() { # kind role workload round
  local kind=$1 role=$2 w=$3 r=$4 id line c0 c1 t0 t1 s0 s1
  find_modes "$kind" 30 || die "$kind: no single leader before $w on the $role"
  if [ "$role" = leader ]; then id=$leader; else id=$follower; fi
  local args=(--server "127.0.0.1:${client_port[$kind$id]}" --server-pid "${pid[$kind$id]}" --label "$kind"
    --json --sessions "$sessions" --outstanding "$outstanding" --value-bytes "$value_bytes"
    --duration "$duration" --warmup "$warmup")
  case $w in
    create | set | get) args+=("$w") ;;
    mixed) args+=(mixed --read-percent "$read_percent") ;;
  esac
  wait_quiet "$kind"
  echo "  $w on $kind's $role (m$id) ..." >&2
  echo "---- $kind $role m$id $w round $r $(date -u +%H:%M:%S)" >>"$bench_log"
  # shellcheck disable=SC2046
  cpu_snapshot s0 $(ensemble_pids "$kind")
  if line=$("${bench[@]}" "${args[@]}" 2>>"$bench_log") && [ -n "$line" ]; then
    # shellcheck disable=SC2046
    cpu_snapshot s1 $(ensemble_pids "$kind")
    read -r _ c0 _ t0 <<<"$s0"
    read -r _ c1 _ t1 <<<"$s1"
    jq -c --arg role "$role" --argjson member "$id" --argjson round "$r" \
      --argjson ecpu "$(awk -v a="$c0" -v b="$c1" -v t="$clk_tck" 'BEGIN {printf "%.3f", (b - a) / t}')" \
      --argjson ewall "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" \
      --argjson other "$(other_pct "$s0" "$s1")" --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
      '. + {role: $role, member: $member, round: $round, ensemble_cpu_s: $ecpu, ensemble_wall_s: $ewall,
            other_cpu_pct: $other, loadavg_1m: ($load | tonumber)}' \
      <<<"$line" >>"$results"
  else
    echo "  $w on $kind's $role failed (see $bench_log):" >&2
    tail -n 3 "$bench_log" >&2
    jq -cn --arg l "$kind" --arg w "$w" --arg role "$role" --argjson round "$r" \
      '{tool: "rzk-bench", workload: $w, label: $l, role: $role, round: $round, failed: true}' >>"$results"
  fi
  for id in 1 2 3; do alive "$kind" "$id" || die "$kind member $id died during $w (log $(member_log "$kind" "$id"))"; done
  local m
  m=$(mode_of "$kind" "$leader")
  [ "$m" = leader ] || echo "  note: $kind m$leader reports mode '$m' after $w (was leader)" >&2
}

if [ "${#bench_wl[@]}" -gt 0 ]; then
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order=(rzk zookeeper); else order=(zookeeper rzk); fi
    for kind in "${order[@]}"; do
      echo "round $r of $rounds: $kind" >&2
      phase=round$r
      start_ensemble "$kind" 2000
      for w in "${bench_wl[@]}"; do
        for role in "${target_list[@]}"; do run_one "$kind" "$role" "$w" "$r"; done
      done
      stop_ensemble "$kind"
    done
  done
fi

# ---- failover ----
cat >"$dir/failover.py" <<'PY'
"""Steady synchronous creates from kazoo sessions on every member; kill -9 the leader; time until
the first create issued after the kill is acknowledged. One JSON line on stdout."""
import argparse, json, logging, os, signal, socket, sys, threading, time

from kazoo.client import KazooClient

ap = argparse.ArgumentParser()
ap.add_argument("--ports", required=True)  # client ports of members 1..n
ap.add_argument("--leader", type=int, required=True)  # member id (1-based)
ap.add_argument("--leader-pid", type=int, required=True)
ap.add_argument("--sessions", type=int, default=6)
ap.add_argument("--warmup", type=float, default=3.0)
ap.add_argument("--timeout", type=float, default=60.0)
ap.add_argument("--session-timeout", type=float, default=10.0)
ap.add_argument("--value-bytes", type=int, default=100)
ap.add_argument("--base", required=True)
ap.add_argument("--label", default="")
a = ap.parse_args()
logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="%(asctime)s %(threadName)s %(levelname)s %(name)s: %(message)s")

ports = [int(p) for p in a.ports.split(",")]
n = len(ports)
now = time.monotonic
value = b"x" * a.value_bytes
stop = threading.Event()
kill_at = None


def client(first):  # member index first, then the others in order
    order = ports[first:] + ports[:first]
    return KazooClient(hosts=",".join(f"127.0.0.1:{p}" for p in order), timeout=a.session_timeout,
                       randomize_hosts=False,
                       connection_retry=dict(max_tries=-1, delay=0.02, backoff=1, max_jitter=0.0,
                                             max_delay=0.02))


def srvr_mode(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"srvr")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        for line in data.decode(errors="replace").splitlines():
            if line.startswith("Mode: "):
                return line[6:].strip()
    except OSError:
        pass
    return None


class Worker(threading.Thread):
    def __init__(self, i):
        super().__init__(name=f"s{i}", daemon=True)
        self.i, self.member = i, i % n
        self.zk = client(self.member)
        self.zk.start(timeout=30)
        self.acked = []  # (issued, acked, name)
        self.errors = []  # (issued, failed, exception name)
        self.first_after = None  # (issued, acked) of the first create issued after the kill

    def run(self):
        k = 0
        while not stop.is_set():
            k += 1
            name = f"s{self.i}-{k:09d}"
            t0 = now()
            try:
                self.zk.create_async(f"{a.base}/{name}", value).get(timeout=a.timeout)
            except Exception as e:  # connection loss, session expiry, timeout: next create
                self.errors.append((t0, now(), type(e).__name__))
                time.sleep(0.002)
                continue
            t1 = now()
            self.acked.append((t0, t1, name))
            ka = kill_at
            if ka is not None and t0 >= ka and self.first_after is None:
                self.first_after = (t0, t1)


setup = client(a.leader % n)  # a follower first
setup.start(timeout=30)
setup.ensure_path(a.base)
setup.stop()
setup.close()

workers = [Worker(i) for i in range(a.sessions)]
for w in workers:
    w.start()
deadline = now() + 30
while any(not w.acked for w in workers):
    if now() > deadline:
        sys.exit("failover: not every session could write before the kill")
    time.sleep(0.01)
time.sleep(a.warmup / 2)
c0, s0 = sum(len(w.acked) for w in workers), now()
time.sleep(a.warmup / 2)
c1, s1 = sum(len(w.acked) for w in workers), now()

survivors = [p for i, p in enumerate(ports) if i != a.leader - 1]
leader_seen = [None]


def watch_leader():
    while not stop.is_set() and leader_seen[0] is None:
        for p in survivors:
            if srvr_mode(p) == "leader":
                leader_seen[0] = now()
                return
        time.sleep(0.01)


try:
    with open(f"/proc/{a.leader_pid}/stat") as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    leader_ticks = int(fields[11]) + int(fields[12])
except (OSError, ValueError, IndexError):
    leader_ticks = None
kill_at = now()
os.kill(a.leader_pid, signal.SIGKILL)
watcher = threading.Thread(target=watch_leader, daemon=True)
watcher.start()
while now() < kill_at + a.timeout and any(w.first_after is None for w in workers):
    time.sleep(0.005)
recovered = all(w.first_after is not None for w in workers)
time.sleep(0.5)
stop.set()
for w in workers:
    w.join(timeout=a.timeout + 5)

# Every acknowledged create must be there (read through a survivor after a sync).
check = client(ports.index(survivors[0]))  # a survivor first
check.start(timeout=30)
check.sync(a.base)
present = set(check.get_children(a.base))
check.stop()
check.close()
acked = [x[2] for w in workers for x in w.acked]
lost = [p for p in acked if p not in present]
for w in workers:
    try:
        w.zk.stop()
        w.zk.close()
    except Exception:
        pass


def ms(t):
    return None if t is None else round((t - kill_at) * 1000, 1)


firsts = [w.first_after[1] for w in workers if w.first_after]
on_leader = [w.first_after[1] for w in workers if w.first_after and w.member == a.leader - 1]
on_followers = [w.first_after[1] for w in workers if w.first_after and w.member != a.leader - 1]
kinds = {}
for w in workers:
    for e in w.errors:
        if e[0] >= kill_at - 1:
            kinds[e[2]] = kinds.get(e[2], 0) + 1
print(json.dumps({
    "tool": "rzk-failover", "workload": "failover", "label": a.label, "killed_member": a.leader,
    "sessions": a.sessions, "session_timeout_s": a.session_timeout,
    "pre_kill_ops_per_s": round((c1 - c0) / (s1 - s0), 1),
    "first_write_ms": ms(min(firsts)) if firsts else None,
    "first_write_on_follower_sessions_ms": ms(min(on_followers)) if on_followers else None,
    "first_write_on_leader_sessions_ms": ms(min(on_leader)) if on_leader else None,
    "all_sessions_ms": ms(max(firsts)) if recovered else None,
    "new_leader_ms": ms(leader_seen[0]),
    "recovered": recovered,
    "acked": len(acked), "lost": len(lost), "lost_examples": lost[:5],
    "errors": sum(len(w.errors) for w in workers), "errors_around_kill": kinds,
    "leader_cpu_ticks_at_kill": leader_ticks,
}))
PY

failover_one() { # kind repeat
  local kind=$1 rep=$2 id line t0 rejoin m z1 z2 z3 n1 n2 n3 conv=false killed s0 s1 other survivors lt0
  find_modes "$kind" 60 || die "$kind: no single leader before failover repeat $rep"
  killed=$leader
  wait_quiet "$kind"
  # the survivors' CPU from snapshots; the leader's up to the kill (the client reads it then)
  survivors="" lt0=$(cpu_ticks "${pid[$kind$killed]}")
  for id in 1 2 3; do [ "$id" = "$killed" ] || survivors+=" ${pid[$kind$id]}"; done
  # shellcheck disable=SC2086
  cpu_snapshot s0 $survivors
  echo "  failover $rep of $fo_repeats on $kind: kill -9 m$killed (leader) ..." >&2
  echo "---- $kind repeat $rep kill m$killed $(date -u +%H:%M:%S.%N)" >>"$failover_log"
  if ! line=$("$python" "$dir/failover.py" --ports "${client_port[${kind}1]},${client_port[${kind}2]},${client_port[${kind}3]}" \
    --leader "$killed" --leader-pid "${pid[$kind$killed]}" --sessions "$fo_sessions" --warmup "$fo_warmup" \
    --value-bytes "$value_bytes" --base "/rzk-failover-$rep" --label "$kind" 2>>"$failover_log"); then
    tail -n 5 "$failover_log" >&2
    die "$kind failover repeat $rep: the client failed"
  fi
  wait "${pid[$kind$killed]}" 2>/dev/null || true
  pid[$kind$killed]=""
  # shellcheck disable=SC2086
  cpu_snapshot s1 $survivors
  other=$(other_pct "$s0" "$s1" "$(($(jq -r '.leader_cpu_ticks_at_kill // 0' <<<"$line") - lt0))")
  # start the killed member again on its data dir; it must rejoin as a follower
  t0=$(date +%s.%N)
  start_member "$kind" "$killed"
  rejoin=null
  for _ in $(seq 1 1200); do
    alive "$kind" "$killed" || break
    m=$(mode_of "$kind" "$killed")
    if [ "$m" = follower ] || [ "$m" = leader ]; then
      rejoin=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
      break
    fi
    sleep 0.1
  done
  if [ "$rejoin" = null ]; then
    echo "  $kind m$killed did not rejoin within 120 s; its log ($(member_log "$kind" "$killed")):" >&2
    tail -n 30 "$(member_log "$kind" "$killed")" >&2
  fi
  # then all three must agree on zxid and node count (no load runs now)
  if [ "$rejoin" != null ]; then
    for _ in $(seq 1 100); do
      z1=$(srvr_field "$kind" 1 Zxid) z2=$(srvr_field "$kind" 2 Zxid) z3=$(srvr_field "$kind" 3 Zxid)
      n1=$(srvr_field "$kind" 1 'Node count') n2=$(srvr_field "$kind" 2 'Node count') n3=$(srvr_field "$kind" 3 'Node count')
      if [ -n "$z1" ] && [ "$z1" = "$z2" ] && [ "$z2" = "$z3" ] && [ -n "$n1" ] && [ "$n1" = "$n2" ] && [ "$n2" = "$n3" ]; then
        conv=true
        break
      fi
      sleep 0.1
    done
    [ "$conv" = true ] || echo "  $kind: members disagree after the rejoin: zxid $z1 $z2 $z3, nodes $n1 $n2 $n3" >&2
  fi
  jq -c --argjson rep "$rep" --argjson rejoin "$rejoin" --argjson conv "$conv" --arg z "$z1 $z2 $z3" --arg n "$n1 $n2 $n3" \
    --argjson other "$other" \
    '. + {repeat: $rep, rejoin_s: $rejoin, converged: $conv, zxids: $z, node_counts: $n, other_cpu_pct: $other}' \
    <<<"$line" >>"$results"
  jq -r '"    first write \(.first_write_ms) ms (follower sessions \(.first_write_on_follower_sessions_ms), leader sessions \(.first_write_on_leader_sessions_ms)), all sessions \(.all_sessions_ms) ms, new leader seen \(.new_leader_ms) ms, pre-kill \(.pre_kill_ops_per_s) creates/s, lost \(.lost)"' <<<"$line" >&2
  echo "    m$killed rejoined in ${rejoin} s, members agree: $conv; other processes used $other % of a core" >&2
  [ "$rejoin" != null ] || die "$kind member $killed did not rejoin"
}

if [ "$do_failover" = 1 ]; then
  for kind in rzk zookeeper; do
    echo "failover: $kind (tickTime=$fo_tick)" >&2
    phase=failover
    start_ensemble "$kind" "$fo_tick"
    for rep in $(seq 1 "$fo_repeats"); do failover_one "$kind" "$rep"; done
    stop_ensemble "$kind"
  done
fi

# ---- table: the median over rounds of each figure, per ensemble and target ----
table=$(jq -rs --arg order "$workloads" --arg targets "$targets" '
  def median: map(select(. != null)) | sort
    | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
      else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def pct($x; $wall): if $x == null or ($wall // 0) == 0 then null else 100 * $x / $wall end;
  def metrics:
    [["ops/s", "higher", .ops_per_s], ["p50 us", "lower", .latency_us.p50],
     ["p99 us", "lower", .latency_us.p99], ["p999 us", "lower", .latency_us.p999],
     ["member cpu %", "-", pct(.server_cpu_s; .wall_s)],
     ["ensemble cpu %", "-", pct(.ensemble_cpu_s; .ensemble_wall_s)],
     ["bench cpu %", "-", pct(.client_cpu_s; .wall_s)], ["other cpu %", "-", .other_cpu_pct],
     ["errors", "lower", .errors]];
  def forows:
    [["first write ms", "median", "lower", .first_write_ms], ["first write ms", "max", "lower", .first_write_ms],
     ["all sessions ms", "median", "lower", .all_sessions_ms], ["all sessions ms", "max", "lower", .all_sessions_ms],
     ["new leader ms", "median", "lower", .new_leader_ms], ["new leader ms", "max", "lower", .new_leader_ms],
     ["rejoin s", "median", "lower", .rejoin_s], ["rejoin s", "max", "lower", .rejoin_s],
     ["pre-kill ops/s", "median", "higher", .pre_kill_ops_per_s],
     ["lost writes", "sum", "lower", .lost], ["not recovered", "sum", "lower", (if .recovered then 0 else 1 end)],
     ["members disagree", "sum", "lower", (if .converged then 0 else 1 end)],
     ["other cpu %", "median", "-", .other_cpu_pct],
     ["repeats", "count", "-", 1]];
  def agg($xs; $how):
    if $how == "median" then ($xs | median)
    elif $how == "max" then ($xs | map(select(. != null)) | max)
    else ($xs | map(select(. != null)) | add) end;
  . as $runs
  | ($order | split(",")) as $ws
  | $ws[] as $w
  | if $w == "failover" then
      [$runs[] | select(.workload == "failover")] as $fr
      | select($fr | length > 0)
      | range(0; {} | forows | length) as $i
      | ({} | forows[$i]) as $shape
      | [$w, "-", "\($shape[0]) \($shape[1])", $shape[2],
         agg([$fr[] | select(.label == "rzk") | forows[$i][3]]; $shape[1]),
         agg([$fr[] | select(.label == "zookeeper") | forows[$i][3]]; $shape[1])]
    else
      ($targets | split(","))[] as $t
      | [$runs[] | select(.workload == $w and .role == $t and (.failed | not))] as $ok
      | range(0; [$ok[] | metrics] | first // [] | length) as $i
      | ([$ok[] | metrics] | first) as $shape
      | [$w, $t, $shape[$i][0], $shape[$i][1],
         ([$ok[] | select(.label == "rzk") | metrics[$i][2]] | median),
         ([$ok[] | select(.label == "zookeeper") | metrics[$i][2]] | median)]
    end
  | map(if . == null then "-" else tostring end) | @tsv' "$results")

fmt() {
  if [ "$1" = - ]; then echo -; return; fi
  awk -v x="$1" 'BEGIN { a = x < 0 ? -x : x
    if (x == int(x) || a >= 100) printf "%.0f", x; else if (a >= 10) printf "%.1f", x; else printf "%.2f", x }'
}
{
  printf '%-9s %-9s %-22s %-7s %12s %12s %8s\n' workload clients figure better rzk zookeeper rzk/zk
  while IFS=$'\t' read -r w t fig better a b; do
    [ -n "$w" ] || continue
    ratio=-
    if [ "$a" != - ] && [ "$b" != - ]; then
      ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b != 0) printf "%.2f", a / b; else print "-" }')
    fi
    printf '%-9s %-9s %-22s %-7s %12s %12s %8s\n' "$w" "$t" "$fig" "$better" "$(fmt "$a")" "$(fmt "$b")" "$ratio"
  done <<<"$table"
  echo "# load avg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "${results%.jsonl}.txt"
echo "results: $results (table: ${results%.jsonl}.txt)" >&2
