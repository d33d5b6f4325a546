#!/usr/bin/env bash
# rzk's zkServer.sh: starts and stops rzk the way ZooKeeper's script does, so that init scripts,
# systemd units and container entrypoints written for ZooKeeper work unchanged.
#
# Usage: zkServer.sh [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd} [zoo.cfg]
#
# The environment is zkEnv.sh's (ZOOCFGDIR, ZOOCFG, ZOO_LOG_DIR, ZOOPIDFILE, SERVER_JVMFLAGS,
# JVMFLAGS); as in ZooKeeper, the pid file is <dataDir>/zookeeper_server.pid unless ZOOPIDFILE
# says otherwise, `start` runs the server in the background with its output in
# $ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out, and `status` asks the client port for `srvr`
# and prints its Mode line. The log goes to $ZOO_LOG_DIR/$ZOO_LOG_FILE (rotated by size, see
# zookeeper.log.maxfilesize / zookeeper.log.maxbackupindex); in the background the console log is
# off unless ZOO_CONSOLE_THRESHOLD names a level. Waits are bounded: ZOO_START_WAIT (seconds the
# process must stay up to count as started, default 1) and ZOO_STOP_TIMEOUT (default 30).
ZOOBINDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$ZOOBINDIR/zkEnv.sh"

if [ -n "${2:-}" ]; then
  ZOOCFG="$ZOOCFGDIR/$2"
fi
# A path with a directory part is taken as it is.
if [ -n "${2:-}" ] && [ "$(dirname "$ZOOCFG")" != "$ZOOCFGDIR" ]; then
  ZOOCFG="$2"
fi
echo "Using config: $ZOOCFG" >&2

ZOO_DATADIR="$(grep "^[[:space:]]*dataDir" "$ZOOCFG" | sed -e 's/.*=//')"
ZOO_DATADIR="$(echo -e "${ZOO_DATADIR}" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
ZOO_DATALOGDIR="$(grep "^[[:space:]]*dataLogDir" "$ZOOCFG" | sed -e 's/.*=//')"

ZOO_DATADIR_AUTOCREATE=()
if [ -n "${ZOO_DATADIR_AUTOCREATE_DISABLE:-}" ]; then
  if [ ! -d "$ZOO_DATADIR/version-2" ]; then
    echo "ZooKeeper data directory is missing at $ZOO_DATADIR fix the path or run initialize"
    exit 1
  fi
  if [ -n "$ZOO_DATALOGDIR" ] && [ ! -d "$ZOO_DATALOGDIR/version-2" ]; then
    echo "ZooKeeper txnlog directory is missing at $ZOO_DATALOGDIR fix the path or run initialize"
    exit 1
  fi
  ZOO_DATADIR_AUTOCREATE=("-Dzookeeper.datadir.autocreate=false")
fi

if [ -z "${ZOOPIDFILE:-}" ]; then
  [ -d "$ZOO_DATADIR" ] || mkdir -p "$ZOO_DATADIR"
  ZOOPIDFILE="$ZOO_DATADIR/zookeeper_server.pid"
else
  mkdir -p "$(dirname "$ZOOPIDFILE")"
fi

[ -w "$ZOO_LOG_DIR" ] || mkdir -p "$ZOO_LOG_DIR"
ZOO_LOG_FILE=${ZOO_LOG_FILE:-zookeeper-${USER:-$(id -un)}-server-${HOSTNAME:-$(hostname)}.log}
_ZOO_DAEMON_OUT="$ZOO_LOG_DIR/zookeeper-${USER:-$(id -un)}-server-${HOSTNAME:-$(hostname)}.out"

server_args() { # console threshold
  RZK_BIN=$(rzk_binary) || exit 1
  SERVER_CMD=("$RZK_BIN" server "$ZOOCFG" "${ZOO_DATADIR_AUTOCREATE[@]}" "-Dzookeeper.log.dir=${ZOO_LOG_DIR}"
    "-Dzookeeper.log.file=${ZOO_LOG_FILE}" "-Dzookeeper.console.threshold=$1")
}

running() { [ -f "$ZOOPIDFILE" ] && kill -0 "$(cat "$ZOOPIDFILE")" >/dev/null 2>&1; }

four_letter() { # address port word
  (exec 3<>"/dev/tcp/$1/$2" && printf '%s' "$3" >&3 && timeout 5 cat <&3) 2>/dev/null
}

case ${1:-} in
start)
  echo -n "Starting zookeeper ... "
  if running; then
    echo "already running as process $(cat "$ZOOPIDFILE")."
    exit 1
  fi
  server_args "${ZOO_CONSOLE_THRESHOLD:-OFF}"
  nohup "${SERVER_CMD[@]}" >"$_ZOO_DAEMON_OUT" 2>&1 </dev/null &
  pid=$!
  if ! echo -n "$pid" >"$ZOOPIDFILE"; then
    echo FAILED TO WRITE PID
    exit 1
  fi
  # Started means still up after ZOO_START_WAIT seconds (a bad config exits at once).
  deadline=$((SECONDS + ${ZOO_START_WAIT:-1}))
  while [ $SECONDS -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo STARTED
  else
    echo FAILED TO START
    tail -n 5 "$_ZOO_DAEMON_OUT" >&2
    rm -f "$ZOOPIDFILE"
    exit 1
  fi
  ;;
start-foreground)
  server_args "${ZOO_CONSOLE_THRESHOLD:-INFO}"
  if [ -n "${ZOO_NOEXEC:-}" ]; then
    "${SERVER_CMD[@]}"
  else
    exec "${SERVER_CMD[@]}"
  fi
  ;;
print-cmd)
  server_args "${ZOO_CONSOLE_THRESHOLD:-OFF}"
  printf '%q ' "${SERVER_CMD[@]}"
  echo "> \"$_ZOO_DAEMON_OUT\" 2>&1 < /dev/null"
  ;;
stop)
  echo -n "Stopping zookeeper ... "
  if [ ! -f "$ZOOPIDFILE" ]; then
    echo "no zookeeper to stop (could not find file $ZOOPIDFILE)"
  else
    pid=$(cat "$ZOOPIDFILE")
    kill "$pid" 2>/dev/null
    rm "$ZOOPIDFILE"
    deadline=$((SECONDS + ${ZOO_STOP_TIMEOUT:-30}))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$deadline" ]; do
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "still running after ${ZOO_STOP_TIMEOUT:-30} s (pid $pid)"
      exit 1
    fi
    echo STOPPED
  fi
  exit 0
  ;;
version)
  RZK_BIN=$(rzk_binary) || exit 1
  "$RZK_BIN" version
  ;;
restart)
  shift
  # --config was taken by zkEnv.sh; the configuration directory is passed on explicitly.
  "$0" --config "$ZOOCFGDIR" stop "$@"
  "$0" --config "$ZOOCFGDIR" start "$@"
  ;;
status)
  isSSL="false"
  clientPortAddress=$(grep "^[[:space:]]*clientPortAddress[^[:alpha:]]" "$ZOOCFG" | sed -e 's/.*=//')
  [ -n "$clientPortAddress" ] || clientPortAddress="localhost"
  clientPort=$(grep "^[[:space:]]*clientPort[^[:alpha:]]" "$ZOOCFG" | sed -e 's/.*=//')
  if ! [[ "$clientPort" =~ ^[0-9]+$ ]]; then
    # The client port may be on this server's `server.N=...;[address:]port` line.
    myid=$(cat "$ZOO_DATADIR/myid" 2>/dev/null)
    if ! [[ "$myid" =~ ^[0-9]+$ ]]; then
      echo "myid could not be determined, will not able to locate clientPort in the server configs."
    else
      clientPortAndAddress=$(grep "^[[:space:]]*server.$myid=.*;.*" "$ZOOCFG" | sed -e 's/.*=//' -e 's/.*;//')
      if [ -z "$clientPortAndAddress" ]; then
        echo "Client port not found in static config file. Looking in dynamic config file."
        dynamicConfigFile=$(grep "^[[:space:]]*dynamicConfigFile" "$ZOOCFG" | sed -e 's/.*=//')
        clientPortAndAddress=$(grep "^[[:space:]]*server.$myid=.*;.*" "$dynamicConfigFile" 2>/dev/null |
          sed -e 's/.*=//' -e 's/.*;//')
      fi
      if [ -z "$clientPortAndAddress" ]; then
        echo "Client port not found in the server configs"
      else
        if [[ "$clientPortAndAddress" =~ ^.*:[0-9]+ ]]; then
          if [[ "$clientPortAndAddress" =~ \[.*\]:[0-9]+ ]]; then
            clientPortAddress=$(echo "$clientPortAndAddress" | sed -e 's|\[||' -e 's|\]:.*||')
          else
            clientPortAddress=$(echo "$clientPortAndAddress" | sed -e 's/:.*//')
          fi
        fi
        clientPort=$(echo "$clientPortAndAddress" | sed -e 's/.*://')
      fi
    fi
  fi
  if [ -z "$clientPort" ]; then
    echo "Client port not found. Looking for secureClientPort in the static config."
    secureClientPort=$(grep "^[[:space:]]*secureClientPort[^[:alpha:]]" "$ZOOCFG" | sed -e 's/.*=//')
    if [ -n "$secureClientPort" ]; then
      echo "status over the secure client port is not supported by this script; ask the admin server" \
        "(http://<host>:8080/commands/srvr) or enable clientPort."
    else
      echo "Unable to find either secure or unsecure client port in any configs. Terminating."
    fi
    exit 1
  fi
  echo "Client port found: $clientPort. Client address: $clientPortAddress. Client SSL: $isSSL."
  STAT=$(four_letter "$clientPortAddress" "$clientPort" srvr | grep Mode)
  if [ -z "$STAT" ]; then
    echo "Error contacting service. It is probably not running."
    exit 1
  fi
  echo "$STAT"
  exit 0
  ;;
*)
  echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd}" >&2
  ;;
esac
