#!/usr/bin/env bash
# rzk's zkCli.sh: the zkCli-style shell (`rzk cli`), same arguments: [-server host:port] [cmd args].
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/zkEnv.sh"
RZK_BIN=$(rzk_binary) || exit 1
exec "$RZK_BIN" cli "$@"
