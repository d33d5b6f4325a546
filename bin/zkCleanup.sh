#!/usr/bin/env bash
# rzk's zkCleanup.sh: removes old snapshots and txn logs of the configured dataDir/dataLogDir,
# keeping the newest `-n <count>` (at least 3), as ZooKeeper's PurgeTxnLog does.
# Usage: zkCleanup.sh [--config <conf-dir>] -n <count>
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/zkEnv.sh"
RZK_BIN=$(rzk_binary) || exit 1
ZOODATADIR=$(grep "^[[:space:]]*dataDir=" "$ZOOCFG" | sed -e 's/.*=//')
ZOODATALOGDIR=$(grep "^[[:space:]]*dataLogDir=" "$ZOOCFG" | sed -e 's/.*=//')
if [ -z "$ZOODATALOGDIR" ]; then
  exec "$RZK_BIN" purge "$ZOODATADIR" "$@"
else
  exec "$RZK_BIN" purge "$ZOODATALOGDIR" "$ZOODATADIR" "$@"
fi
