#!/usr/bin/env bash
# Restart time and memory with N znodes on disk, rzk against the reference ZooKeeper 3.8 on the
# same machine: each server starts fresh, `rzk bench load` creates N znodes of B bytes, the server
# is killed (kill -9: both then load their newest snapshot and replay the log after it), started
# again, and timed from process start until `srvr` answers with a Mode line; its resident memory
# (VmRSS) is read at that moment (rss_mb) and again --settle seconds later (rss_settled_mb: by
# then rzk's start-up snapshot is written and the JVM's start-up work is done).
#
# Usage: scripts/restart-compare.sh [--nodes N (1000000)] [--value-bytes B (100)] [--heap 2g]
#                                   [--settle S (5)] [--dir D] [--keep]
# The data (about 3 GB for 1,000,000 znodes) goes to a new temporary directory, removed at the end
# unless --keep; with --dir D it goes to D and stays.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=1000000 value_bytes=100 heap=2g settle=5 dir="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift ;;
    --value-bytes) value_bytes=$2; shift ;;
    --heap) heap=$2; shift ;;
    --settle) settle=$2; shift ;;
    --dir) dir=$2; shift ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "restart-compare: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
target=${CARGO_TARGET_DIR:-$(pwd)/target}
cargo build --release -q -p rzk >&2
rzk=$target/release/rzk
[ -n "$dir" ] && keep=1
[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/rzk-restart.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$keep" = 0 ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
srvr_ok() { python3 - "$1" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1); s.sendall(b"srvr")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
    sys.exit(0 if b"Mode:" in data else 1)
except Exception:
    sys.exit(1)
PY
}
now_ms() { date +%s%3N; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

start() { # kind cfg log -> pid
  local kind=$1 cfg=$2 log=$3
  if [ "$kind" = rzk ]; then
    "$rzk" server "$cfg" >>"$log" 2>&1 &
  else
    java -Xmx"$heap" -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg" >>"$log" 2>&1 &
  fi
  echo $!
}

stop() { # pid: kill -9 and wait until it is gone (it is not this shell's child)
  kill -9 "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
}

wait_serving() { # port pid
  while ! srvr_ok "$1"; do
    kill -0 "$2" 2>/dev/null || { echo "server died" >&2; return 1; }
    sleep 0.05
  done
}

printf '%-10s %12s %12s %12s %15s\n' server load_s restart_ms rss_mb rss_settled_mb
for kind in rzk zookeeper; do
  port=$(free_port)
  d=$dir/$kind
  mkdir -p "$d/data"
  cfg=$d/zoo.cfg
  printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n' \
    "$d/data" "$port" >"$cfg"
  pid=$(start "$kind" "$cfg" "$d/server.log"); pids+=("$pid")
  wait_serving "$port" "$pid"
  t0=$(now_ms)
  "$rzk" bench load --nodes "$nodes" --value-bytes "$value_bytes" --server "127.0.0.1:$port" --json >"$d/load.json"
  load_s=$(( ($(now_ms) - t0) / 1000 ))
  stop "$pid"
  t0=$(now_ms)
  pid=$(start "$kind" "$cfg" "$d/server.log"); pids+=("$pid")
  wait_serving "$port" "$pid"
  restart_ms=$(( $(now_ms) - t0 ))
  rss=$(rss_mb "$pid")
  sleep "$settle"
  rss_settled=$(rss_mb "$pid")
  printf '%-10s %12s %12s %12s %15s\n' "$kind" "$load_s" "$restart_ms" "$rss" "$rss_settled"
  stop "$pid"
done
if [ "$keep" = 1 ]; then echo "(data under $dir)"; fi
