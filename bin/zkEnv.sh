#!/usr/bin/env bash
# rzk's zkEnv.sh: the environment ZooKeeper's scripts set up, for rzk. Sourced by zkServer.sh,
# zkCli.sh and zkCleanup.sh. The variables operators already set keep their meaning:
#   ZOOCFGDIR   configuration directory (default: ../conf beside bin/, else /etc/zookeeper/conf,
#               else ../etc/zookeeper); `--config <dir>` as the first arguments overrides it
#   ZOOCFG      the configuration file, relative to ZOOCFGDIR (default zoo.cfg)
#   ZOO_LOG_DIR where logs go (default ../logs beside bin/)
#   ZOOPIDFILE  the pid file (default: <dataDir>/zookeeper_server.pid)
#   SERVER_JVMFLAGS, JVMFLAGS: their -Dname=value entries are read by rzk itself
# ${ZOOCFGDIR}/zookeeper-env.sh and ${ZOOCFGDIR}/java.env are sourced when present, as ZooKeeper does.
# RZK names the rzk binary; otherwise bin/rzk beside this script, the workspace's
# target/{release,debug}/rzk (CARGO_TARGET_DIR honoured), or `rzk` on PATH.

ZOOBINDIR="${ZOOBINDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
ZOOKEEPER_PREFIX="${ZOOBINDIR}/.."

if [ $# -gt 1 ] && [ "--config" = "$1" ]; then
  shift
  ZOOCFGDIR=$1
  shift
fi

if [ -z "${ZOOCFGDIR:-}" ]; then
  if [ -e "${ZOOKEEPER_PREFIX}/conf" ]; then
    ZOOCFGDIR="${ZOOKEEPER_PREFIX}/conf"
  elif [ -e /etc/zookeeper/conf ]; then
    ZOOCFGDIR=/etc/zookeeper/conf
  else
    ZOOCFGDIR="${ZOOKEEPER_PREFIX}/etc/zookeeper"
  fi
fi

if [ -f "${ZOOCFGDIR}/zookeeper-env.sh" ]; then
  . "${ZOOCFGDIR}/zookeeper-env.sh"
fi

ZOOCFG="${ZOOCFG:-zoo.cfg}"
ZOOCFG="$ZOOCFGDIR/$ZOOCFG"

if [ -f "$ZOOCFGDIR/java.env" ]; then
  . "$ZOOCFGDIR/java.env"
fi

ZOO_LOG_DIR="${ZOO_LOG_DIR:-$ZOOKEEPER_PREFIX/logs}"

rzk_binary() {
  if [ -n "${RZK:-}" ]; then
    echo "$RZK"
    return
  fi
  local c
  for c in "$ZOOBINDIR/rzk" "${CARGO_TARGET_DIR:-$ZOOKEEPER_PREFIX/target}/release/rzk" \
    "${CARGO_TARGET_DIR:-$ZOOKEEPER_PREFIX/target}/debug/rzk"; do
    if [ -x "$c" ]; then
      echo "$c"
      return
    fi
  done
  command -v rzk || {
    echo "rzk binary not found: set RZK, or build it (cargo build --release -p rzk)" >&2
    return 1
  }
}
