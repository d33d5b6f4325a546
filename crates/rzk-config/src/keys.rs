//! Which zoo.cfg keys ZooKeeper 3.8 knows, for the warning about unknown keys.
//!
//! `QuorumPeerConfig.parseProperties` handles some keys itself and turns every other key `K` into
//! the system property `zookeeper.K`. That is how most settings (`snapCount`, `admin.serverPort`,
//! `4lw.commands.whitelist`, ...) reach the code that reads them, so such a key is known when some
//! part of ZooKeeper reads `zookeeper.K`. A few settings are read without the `zookeeper.` prefix,
//! so in zoo.cfg they silently do nothing: those get their own warning. The lists were taken from
//! the 3.8 sources (`System.getProperty`, `Integer.getInteger`, `Long.getLong`,
//! `Boolean.getBoolean` call sites) and `zookeeperAdmin.md`.

/// Keys that `QuorumPeerConfig.parseProperties` handles itself (besides `server.`, `group`,
/// `weight` and `metricsProvider.` prefixes).
pub const ZOO_CFG_KEYS: &[&str] = &[
    "dataDir",
    "dataLogDir",
    "clientPort",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "clientPortAddress",
    "secureClientPort",
    "secureClientPortAddress",
    "observerMasterPort",
    "clientPortListenBacklog",
    "tickTime",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "initLimit",
    "syncLimit",
    "connectToLearnerMasterLimit",
    "electionAlg",
    "quorumListenOnAllIPs",
    "peerType",
    "syncEnabled",
    "dynamicConfigFile",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "standaloneEnabled",
    "reconfigEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.auth.enableSasl",
    "quorum.auth.serverRequireSasl",
    "quorum.auth.learnerRequireSasl",
    "quorum.auth.learner.saslLoginContext",
    "quorum.auth.server.saslLoginContext",
    "quorum.auth.kerberos.servicePrincipal",
    "quorum.cnxn.threads.size",
    "jvm.pause.info-threshold.ms",
    "jvm.pause.warn-threshold.ms",
    "jvm.pause.sleep.time.ms",
    "jvm.pause.monitor",
    "metricsProvider.className",
    "multiAddress.enabled",
    "multiAddress.reachabilityCheckTimeoutMs",
    "multiAddress.reachabilityCheckEnabled",
    "oraclePath",
];

/// Keys `K` whose system property `zookeeper.K` ZooKeeper's server reads.
const SYSTEM_PROPERTY_KEYS: &[&str] = &[
    "4lw.commands.whitelist",
    "DigestAuthenticationProvider.digestAlg",
    "DigestAuthenticationProvider.enabled",
    "DigestAuthenticationProvider.superDigest",
    "SASLAuthenticationProvider.superPassword",
    "X509AuthenticationProvider.superUser",
    "admin.commandURL",
    "admin.enableServer",
    "admin.forceHttps",
    "admin.httpVersion",
    "admin.idleTimeout",
    "admin.portUnification",
    // 3.9's snapshot and restore admin commands, which rzk serves.
    "admin.rateLimiterIntervalInMS",
    "admin.restore.enabled",
    "admin.serverAddress",
    "admin.serverPort",
    "admin.snapshot.enabled",
    "allowSaslFailedClients",
    "audit.enable",
    "audit.impl.class",
    "bitHashCacheSize",
    "client.certReload",
    "client.portUnification",
    "client.secure",
    "clientCnxnSocket",
    "clientTcpKeepAlive",
    "closeSessionTxn.enabled",
    "cnxTimeout",
    "commitLogCount",
    "commitProcessor.maxCommitBatchSize",
    "commitProcessor.maxReadBatchSize",
    "commitProcessor.numWorkerThreads",
    "commitProcessor.shutdownTimeout",
    "connection_throttle_decrease_ratio",
    "connection_throttle_drop_decrease",
    "connection_throttle_drop_increase",
    "connection_throttle_fill_count",
    "connection_throttle_fill_time",
    "connection_throttle_freeze_time",
    "connection_throttle_global_session_weight",
    "connection_throttle_local_session_weight",
    "connection_throttle_renew_session_weight",
    "connection_throttle_tokens",
    "connection_throttle_weight_enabled",
    "datadir.autocreate",
    "db.autocreate",
    "digest.enabled",
    "disableAutoWatchReset",
    "electionPortBindRetry",
    "emulate353TTLNodes",
    "enableEagerACLCheck",
    "enforce.auth.enabled",
    "enforce.auth.schemes",
    "enforceQuota",
    "ensembleAuthName",
    "extendedTypesEnabled",
    "fastleader.maxNotificationInterval",
    "fastleader.minNotificationInterval",
    "flushDelay",
    "follower.skipLearnerRequestToNextProcessor",
    "forceSnapshotSync",
    "forceSync",
    "forward_learner_requests_to_commit_processor_disabled",
    "fsync.warningthresholdms",
    "globalOutstandingLimit",
    "intBufferStartingSizeBytes",
    "jmx.log4j.disable",
    "jmx.log4j.mbean",
    "jute.maxbuffer.extrasize",
    "kerberos.canonicalizeHostNames",
    "kerberos.removeHostFromPrincipal",
    "kerberos.removeRealmFromPrincipal",
    "kinit",
    "largeRequestMaxBytes",
    "largeRequestThreshold",
    "leader.ackLoggingFrequency",
    "leader.closeSocketAsync",
    "leader.maxConcurrentDiffSyncs",
    "leader.maxConcurrentSnapSyncs",
    "leader.maxTimeToWaitForEpoch",
    "leaderConnectDelayDuringRetryMs",
    "leaderServes",
    "learner.asyncSending",
    "learner.closeSocketAsync",
    "letAnySaslUserDoX",
    "maxBatchSize",
    "maxCnxns",
    "maxGetChildrenResponseCacheSize",
    "maxInProcessingDeadWatchers",
    "maxResponseCacheSize",
    "maxWriteQueuePollTime",
    "messageTracker.BufferSize",
    "messageTracker.Enabled",
    "netty.advancedFlowControl.enabled",
    "netty.server.earlyDropSecureConnectionHandshakes",
    "netty.server.outstandingHandshake.limit",
    "nio.directBufferBytes",
    "nio.numSelectorThreads",
    "nio.numWorkerThreads",
    "nio.sessionlessCnxnTimeout",
    "nio.shutdownTimeout",
    "observer.election.DelayMs",
    "observer.reconnectDelayMs",
    "observer.syncEnabled",
    "observerMaster.sizeLimit",
    "pathStats.delay",
    "pathStats.enabled",
    "pathStats.initialDelay",
    "pathStats.maxDepth",
    "pathStats.sampleRate",
    "pathStats.slotCapacity",
    "pathStats.slotDuration",
    "pathStats.topPathMax",
    "preAllocSize",
    "quorumCnxnTimeoutMs",
    "request_stale_connection_check",
    "request_stale_latency_check",
    "request_throttle_drop_stale",
    "request_throttle_max_requests",
    "request_throttle_stall_time",
    "request_throttler.shutdownTimeout",
    "requireKerberosConfig",
    "sasl.client",
    "sasl.client.canonicalize.hostname",
    "sasl.client.username",
    "sasl.clientconfig",
    "sasl.serverconfig",
    "security.auth_to_local",
    "server.principal",
    "server.realm",
    "serverCnxnFactory",
    "sessionRequireClientSASLAuth",
    "skipACL",
    "snapCount",
    "snapSizeLimitInKb",
    "snapshot.compression.method",
    "snapshot.trust.empty",
    "snapshotSizeFactor",
    "superUser",
    "tcpKeepAlive",
    "throttled_op_wait_time",
    "txnLogSizeLimitInKb",
    "watchManagerName",
    "watcherCleanIntervalInSeconds",
    "watcherCleanThreadsNum",
    "watcherCleanThreshold",
];

/// The TLS settings, each under `ssl.` (client port) and `ssl.quorum.` (quorum), from `X509Util`.
const SSL_SUFFIXES: &[&str] = &[
    "protocol",
    "enabledProtocols",
    "ciphersuites",
    "keyStore.location",
    "keyStore.password",
    "keyStore.passwordPath",
    "keyStore.type",
    "trustStore.location",
    "trustStore.password",
    "trustStore.passwordPath",
    "trustStore.type",
    "context.supplier.class",
    "hostnameVerification",
    "crl",
    "ocsp",
    "clientAuth",
    "handshakeDetectionTimeoutMillis",
];

/// Settings ZooKeeper reads without the `zookeeper.` prefix: in zoo.cfg they have no effect.
const UNPREFIXED_SYSTEM_PROPERTIES: &[&str] = &[
    "jute.maxbuffer",
    "readonlymode.enabled",
    "znode.container.checkIntervalMs",
    "znode.container.maxPerMinute",
    "znode.container.maxNeverUsedIntervalMs",
];

/// What ZooKeeper does with a zoo.cfg key that `parseProperties` does not handle itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallthroughKey {
    /// Read as the system property `zookeeper.<key>`.
    Known,
    /// Part of the ensemble definition (`server.N`, `group.N`, `weight.N`, `version`).
    Quorum,
    /// Read only without the prefix, so the zoo.cfg line does nothing.
    NoEffect,
    /// Nothing reads it.
    Unknown,
}

/// Classifies a trimmed zoo.cfg key that falls through to a system property.
pub fn classify_fallthrough(key: &str) -> FallthroughKey {
    if key.starts_with("server.") || key.starts_with("group") || key.starts_with("weight") || key == "version"
    {
        return FallthroughKey::Quorum;
    }
    if UNPREFIXED_SYSTEM_PROPERTIES.contains(&key) {
        return FallthroughKey::NoEffect;
    }
    let ssl = key.strip_prefix("ssl.quorum.").or_else(|| key.strip_prefix("ssl."));
    let known = SYSTEM_PROPERTY_KEYS.contains(&key)
        || key == "ssl.authProvider"
        || ssl.is_some_and(|suffix| SSL_SUFFIXES.contains(&suffix))
        || key.strip_prefix("authProvider.").is_some_and(|name| !name.is_empty())
        || key.strip_prefix("superUser.").is_some_and(|name| !name.is_empty());
    if known { FallthroughKey::Known } else { FallthroughKey::Unknown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify_fallthrough("snapCount"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("4lw.commands.whitelist"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("admin.serverPort"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("admin.snapshot.enabled"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("ssl.keyStore.location"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("ssl.quorum.trustStore.type"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("ssl.authProvider"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("authProvider.1"), FallthroughKey::Known);
        assert_eq!(classify_fallthrough("server.1"), FallthroughKey::Quorum);
        assert_eq!(classify_fallthrough("groupie"), FallthroughKey::Quorum);
        assert_eq!(classify_fallthrough("version"), FallthroughKey::Quorum);
        assert_eq!(classify_fallthrough("jute.maxbuffer"), FallthroughKey::NoEffect);
        assert_eq!(classify_fallthrough("readonlymode.enabled"), FallthroughKey::NoEffect);
        assert_eq!(classify_fallthrough("tickTIme"), FallthroughKey::Unknown);
        assert_eq!(classify_fallthrough("ssl.keystore.location"), FallthroughKey::Unknown);
        assert_eq!(classify_fallthrough("authProvider."), FallthroughKey::Unknown);
    }

    #[test]
    fn explicit_keys_never_fall_through() {
        for key in ZOO_CFG_KEYS {
            assert!(!SYSTEM_PROPERTY_KEYS.contains(key), "{key}");
        }
    }
}
