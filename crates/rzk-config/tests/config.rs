//! `Config` as a whole: ZooKeeper 3.8's defaults, each validation error with its key and line,
//! the Debian example zoo.cfg, server lines, `-D`/`JVMFLAGS`, fallthrough keys, `myid`, the
//! loader, and the places where rzk deliberately differs from ZooKeeper.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rzk_config::{
    Config, ConfigError, FourLetterWords, HostPort, LearnerType, Loaded, MemFiles, Origin,
    SnapshotCompression, SystemProps, WarningKind, load, parse_config, system_props_from_launch,
};
use rzk_proto::ServerId;

fn parse_full(
    text: &str,
    files: &MemFiles,
    env: &[(&str, &str)],
    args: &[&str],
) -> Result<Loaded, ConfigError> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (sysprops, _) = system_props_from_launch(env.iter().copied(), &args);
    parse_config(Path::new("zoo.cfg"), text.as_bytes(), sysprops, files)
}

fn parse(text: &str) -> Result<Loaded, ConfigError> {
    parse_config(Path::new("zoo.cfg"), text.as_bytes(), SystemProps::new(), &MemFiles::new())
}

fn ok(text: &str) -> Loaded {
    parse(text).unwrap_or_else(|e| panic!("expected a valid config, got: {e}"))
}

fn err(text: &str) -> ConfigError {
    match parse(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

const BASE: &str = "dataDir=/var/zk\nclientPort=2181\n";

fn with_base(rest: &str) -> String {
    format!("{BASE}{rest}")
}

const Q3: &str = "dataDir=/var/zk\ninitLimit=5\nsyncLimit=2\n\
                  server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n";

fn myid(id: &str) -> MemFiles {
    MemFiles::new().with("/var/zk/myid", id)
}

fn warnings_of(loaded: &Loaded, kind: WarningKind) -> Vec<String> {
    loaded.warnings.iter().filter(|w| w.kind == kind).map(|w| w.to_string()).collect()
}

// --- Defaults ---------------------------------------------------------------------------------

/// Every default, as QuorumPeerConfig, ZooKeeperServer and the classes reading system properties
/// have it in 3.8 (the source of each number is in the comment beside it).
#[test]
fn defaults_match_zookeeper() {
    let loaded = ok(BASE);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.tick_time_ms, 3000); // ZooKeeperServer.DEFAULT_TICK_TIME
    assert_eq!(c.min_session_timeout_ms, 6000); // -1 -> 2 x tickTime
    assert_eq!(c.max_session_timeout_ms, 60000); // -1 -> 20 x tickTime
    assert_eq!((c.init_limit_ticks, c.sync_limit_ticks, c.connect_to_learner_master_limit_ticks), (0, 0, 0));
    assert_eq!(c.client_address, Some(HostPort::new("0.0.0.0", 2181))); // new InetSocketAddress(port)
    assert_eq!(c.secure_client_address, None);
    assert_eq!(c.client_port_listen_backlog, -1);
    assert_eq!(c.max_client_cnxns, 60);
    assert_eq!(c.max_cnxns, 0); // ServerCnxnFactory.ZOOKEEPER_MAX_CONNECTION_DEFAULT
    assert_eq!(c.global_outstanding_limit, 1000); // ZooKeeperServer.DEFAULT_GLOBAL_OUTSTANDING_LIMIT
    assert!(!c.local_sessions_enabled && !c.local_sessions_upgrading_enabled);
    assert_eq!(c.four_letter_words, FourLetterWords::Only(["srvr".to_string()].into()));
    assert_eq!(c.jute_maxbuffer_bytes, 0xfffff); // BinaryInputArchive.maxBuffer
    assert_eq!(c.jute_maxbuffer_extrasize_bytes, 0xfffff); // defaults to maxBuffer
    assert_eq!(c.data_dir, PathBuf::from("/var/zk"));
    assert_eq!(c.data_log_dir, PathBuf::from("/var/zk")); // dataLogDir defaults to dataDir
    assert_eq!(c.snap_retain_count, 3);
    assert_eq!(c.purge_interval_hours, None); // 0
    assert_eq!(c.snap_count, 100_000); // ZooKeeperServer.DEFAULT_SNAP_COUNT
    assert_eq!(c.snap_size_limit_bytes, Some(4_194_304 * 1024)); // 4 GiB
    assert_eq!(c.txn_log_size_limit_bytes, None); // -1
    assert_eq!(c.pre_alloc_size_bytes, 65_536 * 1024); // FilePadding
    assert!(c.force_sync); // "yes"
    assert_eq!(c.fsync_warning_threshold_ms, 1000);
    assert_eq!(c.snapshot_compression, SnapshotCompression::Checked);
    assert!(c.digest_enabled);
    assert!(c.datadir_autocreate && c.db_autocreate && !c.snapshot_trust_empty);
    assert!(!c.extended_types_enabled && !c.emulate353_ttl_nodes);
    assert_eq!(c.container_check_interval_ms, 60_000);
    assert_eq!(c.container_max_per_minute, 10_000);
    assert_eq!(c.container_max_never_used_interval_ms, 0);
    assert!(c.close_session_txn_enabled);
    assert!(!c.enforce_quota);
    assert_eq!(c.super_digest, None);
    assert!(c.digest_auth_enabled && !c.skip_acl && !c.enable_eager_acl_check);
    assert!(c.auth_providers.is_empty());
    assert_eq!(c.server_id, None);
    assert!(c.quorum.servers.is_empty() && c.quorum.version.is_none());
    assert!(c.standalone_enabled && !c.reconfig_enabled);
    assert_eq!(c.peer_type, LearnerType::Participant);
    assert_eq!(c.election_alg, 3);
    assert_eq!(c.observer_master_port, None);
    assert!(!c.quorum_listen_on_all_ips && c.sync_enabled && c.leader_serves);
    assert_eq!(c.dynamic_config_file, None);
    assert!(!c.multi_address.enabled && c.multi_address.reachability_check_enabled);
    assert_eq!(c.multi_address.reachability_check_timeout_ms, 1000); // MultipleAddresses.DEFAULT_TIMEOUT
    assert_eq!(c.oracle_path, None);
    assert!(!c.quorum_sasl.enabled && !c.quorum_sasl.server_required && !c.quorum_sasl.learner_required);
    assert_eq!(c.quorum_sasl.learner_login_context, "QuorumLearner");
    assert_eq!(c.quorum_sasl.server_login_context, "QuorumServer");
    assert_eq!(c.quorum_sasl.service_principal, "zkquorum/localhost");
    assert_eq!(c.quorum_cnxn_threads, 20); // QuorumPeer.QUORUM_CNXN_THREADS_SIZE_DEFAULT_VALUE
    assert!(!c.ssl_quorum && !c.port_unification && !c.ssl_quorum_reload_cert_files);
    assert_eq!(c.cnx_timeout_ms, 5000); // QuorumCnxManager.cnxTO
    assert_eq!(c.election_port_bind_retry, 3); // DEFAULT_PORT_BIND_MAX_RETRY
    assert_eq!(c.quorum_cnxn_timeout_ms, None); // -1
    assert!(!c.tcp_keep_alive && !c.read_only_mode_enabled);
    assert!(c.admin.enabled);
    assert_eq!(c.admin.server_address, "0.0.0.0");
    assert_eq!(c.admin.server_port, 8080);
    assert_eq!(c.admin.idle_timeout_ms, 30_000);
    assert_eq!(c.admin.command_url, "/commands");
    assert_eq!(c.admin.http_version, 11);
    assert!(!c.admin.port_unification && !c.admin.force_https);
    assert_eq!(c.metrics_provider.class_name, "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider");
    assert!(c.metrics_provider.settings.is_empty());
    assert!(!c.jvm_pause_monitor.enabled);
    assert_eq!(
        (
            c.jvm_pause_monitor.info_threshold_ms,
            c.jvm_pause_monitor.warn_threshold_ms,
            c.jvm_pause_monitor.sleep_time_ms
        ),
        (1000, 10_000, 500)
    );
    assert!(c.ssl.is_empty());
    assert!(!c.is_distributed());
    assert_eq!(c.config_file.as_deref(), Some(Path::new("zoo.cfg")));
    assert_eq!(c.initial_config, BASE);
}

#[test]
fn debian_example_zoo_cfg_parses() {
    let text = std::fs::read_to_string("/etc/zookeeper/conf_example/zoo.cfg").unwrap_or_else(|_| {
        eprintln!("no /etc/zookeeper/conf_example/zoo.cfg; using its key lines");
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/zookeeper\nclientPort=2181\n#maxClientCnxns=60\n".into()
    });
    let loaded = ok(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.tick_time_ms, 2000);
    assert_eq!((c.init_limit_ticks, c.sync_limit_ticks), (10, 5));
    assert_eq!(c.data_dir, PathBuf::from("/tmp/zookeeper"));
    assert_eq!(c.client_address, Some(HostPort::wildcard(2181)));
    assert_eq!((c.min_session_timeout_ms, c.max_session_timeout_ms), (4000, 40_000));
    assert_eq!(c.max_client_cnxns, 60);
    assert!(!c.is_distributed());
}

// --- Errors name the key and the line -----------------------------------------------------------

#[test]
fn non_numeric_values_name_key_and_line() {
    let int_keys = [
        "clientPort",
        "secureClientPort",
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
        "autopurge.snapRetainCount",
        "autopurge.purgeInterval",
        "quorum.cnxn.threads.size",
        "multiAddress.reachabilityCheckTimeoutMs",
        "jvm.pause.info-threshold.ms",
        "jvm.pause.warn-threshold.ms",
        "jvm.pause.sleep.time.ms",
    ];
    for key in int_keys {
        let e = err(&with_base(&format!("# comment\n{key} = 12x \n")));
        assert_eq!(e.to_string(), format!("zoo.cfg:4: invalid value \"12x\" for {key}: not an integer"));
        assert_eq!(e.key(), key);
        assert_eq!(e.origin(), Some(&Origin::file_line("zoo.cfg", 4)));
    }
    let e = err(&with_base("tickTime=99999999999\n"));
    assert_eq!(e.to_string(), "zoo.cfg:3: invalid value \"99999999999\" for tickTime: integer out of range");
}

#[test]
fn non_boolean_values_name_key_and_line() {
    let bool_keys = [
        "localSessionsEnabled",
        "localSessionsUpgradingEnabled",
        "quorumListenOnAllIPs",
        "syncEnabled",
        "standaloneEnabled",
        "reconfigEnabled",
        "sslQuorum",
        "portUnification",
        "sslQuorumReloadCertFiles",
        "quorum.auth.enableSasl",
        "quorum.auth.serverRequireSasl",
        "quorum.auth.learnerRequireSasl",
        "jvm.pause.monitor",
        "multiAddress.enabled",
        "multiAddress.reachabilityCheckEnabled",
    ];
    for key in bool_keys {
        let e = err(&with_base(&format!("{key}=yes\n")));
        assert_eq!(
            e.to_string(),
            format!("zoo.cfg:3: invalid value \"yes\" for {key}: expected 'true' or 'false'")
        );
    }
    // Case does not matter, as in QuorumPeerConfig.parseBoolean.
    let c = ok(&with_base("localSessionsEnabled=TRUE\nsyncEnabled=False\n")).config;
    assert!(c.local_sessions_enabled && !c.sync_enabled);
}

#[test]
fn validation_errors() {
    let cases: &[(&str, &str)] = &[
        ("clientPort=2181\n", "zoo.cfg: dataDir is not set"),
        ("dataDir=\n", "zoo.cfg:1: invalid value \"\" for dataDir: empty path"),
        (
            "dataDir=/d\nclientPortAddress=127.0.0.1\n",
            "zoo.cfg:2: clientPortAddress is set but clientPort is not set",
        ),
        (
            "dataDir=/d\nsecureClientPortAddress=::1\n",
            "zoo.cfg:2: secureClientPortAddress is set but secureClientPort is not set",
        ),
        (
            "dataDir=/d\nclientPort=65536\n",
            "zoo.cfg:2: invalid value \"65536\" for clientPort: port out of range (0-65535)",
        ),
        (
            "dataDir=/d\nclientPort=-1\n",
            "zoo.cfg:2: invalid value \"-1\" for clientPort: port out of range (0-65535)",
        ),
        (
            "dataDir=/d\nclientPort=1\nobserverMasterPort=99999\n",
            "zoo.cfg:3: invalid value \"99999\" for observerMasterPort: port out of range (0-65535)",
        ),
        ("dataDir=/d\nclientPort=1\ntickTime=0\n", "zoo.cfg:3: tickTime is not set"),
        (
            "dataDir=/d\nclientPort=1\nelectionAlg=1\n",
            "zoo.cfg:3: invalid value \"1\" for electionAlg: only electionAlg 3 is supported",
        ),
        (
            "dataDir=/d\nclientPort=1\npeerType=leader\n",
            "zoo.cfg:3: invalid value \"leader\" for peerType: expected participant or observer",
        ),
        (
            "dataDir=/d\nclientPort=1\nminSessionTimeout=70000\n",
            "zoo.cfg:3: minSessionTimeout must not be larger than maxSessionTimeout (70000 > 60000)",
        ),
        (
            "dataDir=/d\nclientPort=1\nmaxSessionTimeout=10\n",
            "zoo.cfg:3: minSessionTimeout must not be larger than maxSessionTimeout (6000 > 10)",
        ),
        (
            "dataDir=/d\nclientPort=1\nquorum.auth.serverRequireSasl=true\n",
            "zoo.cfg:3: quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl",
        ),
        ("dataDir=/d\nclientPort=1\nx=\\u00zz\n", "zoo.cfg:3: malformed \\uxxxx encoding"),
        (
            "dataDir=/d\nclientPort=1\ndynamicConfigFile=/d/dyn\nserver.1=a:1:2\n",
            "zoo.cfg:4: parameter: server.1 must be in a separate dynamic config file",
        ),
        (
            "dataDir=/d\nclientPort=1\ndynamicConfigFile=/d/dyn\n",
            "zoo.cfg:3: invalid value \"/d/dyn\" for dynamicConfigFile: no such file",
        ),
        (
            "dataDir=/d\nclientPort=1\nstandaloneEnabled=false\n",
            "zoo.cfg: standaloneEnabled = false then number of participants should be >0",
        ),
        (
            "dataDir=/d\nclientPort=1\nserver.1=a:1:2:observer\n",
            "zoo.cfg: Observers w/o participants is an invalid configuration",
        ),
        (
            "dataDir=/d\nclientPort=1\nsecureClientPort=2281\n",
            "", // valid: x509 is the default SSL auth scheme
        ),
    ];
    for (text, expected) in cases {
        match parse(text) {
            Ok(_) if expected.is_empty() => {}
            Ok(_) => panic!("expected \"{expected}\" for:\n{text}"),
            Err(e) => assert_eq!(&e.to_string(), expected, "for:\n{text}"),
        }
    }
}

#[test]
fn line_numbers_count_comments_blank_and_continued_lines() {
    let e = err("# zoo.cfg\n\ndataDir=/d\nclientPort=\\\n  21\\\n  81\n\n  tickTime = abc\n");
    assert_eq!(e.to_string(), "zoo.cfg:8: invalid value \"abc\" for tickTime: not an integer");
    // A repeated key: the last one wins, and its line is the one reported.
    let e = err("dataDir=/d\nclientPort=1\ntickTime=5\ntickTime=x\n");
    assert_eq!(e.origin(), Some(&Origin::file_line("zoo.cfg", 4)));
}

// --- Quorum mode --------------------------------------------------------------------------------

#[test]
fn quorum_mode_needs_limits_and_myid() {
    let q = |text: &str, id: &str| parse_full(text, &myid(id), &[], &[]);
    let loaded = q(Q3, "2\n").expect("valid quorum");
    assert!(loaded.config.is_distributed());
    assert_eq!(loaded.config.server_id, Some(ServerId(2)));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    let no_init = Q3.replace("initLimit=5\n", "");
    assert_eq!(
        q(&no_init, "1").expect_err("no initLimit").to_string(),
        "zoo.cfg: initLimit is not set (required in quorum mode)"
    );
    let no_sync = Q3.replace("syncLimit=2\n", "");
    assert_eq!(
        q(&no_sync, "1").expect_err("no syncLimit").to_string(),
        "zoo.cfg: syncLimit is not set (required in quorum mode)"
    );
    let e = parse(Q3).expect_err("no myid");
    assert_eq!(e.to_string(), "zoo.cfg: myid file is missing: /var/zk/myid (required in quorum mode)");
    assert_eq!(e.key(), "myid");
    // ZooKeeper's QuorumPeer.start refuses this too ("My id 9 not in the peer list").
    assert_eq!(q(Q3, "9").expect_err("not listed").to_string(), "zoo.cfg: My id 9 not in the peer list");
    // Limits are only required in quorum mode.
    assert!(parse(BASE).is_ok());
}

#[test]
fn standalone_or_quorum_decision() {
    let one = "dataDir=/var/zk\nserver.1=10.0.0.1:2888:3888;2182\n";
    let loaded = parse_full(one, &myid("1"), &[], &[]).expect("one server is standalone");
    assert!(!loaded.config.is_distributed());
    assert_eq!(
        loaded.config.client_address,
        Some(HostPort::wildcard(2182)),
        "client port from the server line"
    );
    assert_eq!(warnings_of(&loaded, WarningKind::Quorum).len(), 1);

    let not_standalone = format!("{one}initLimit=5\nsyncLimit=2\nstandaloneEnabled=false\n");
    let c = parse_full(&not_standalone, &myid("1"), &[], &[]).expect("valid").config;
    assert!(c.is_distributed(), "standaloneEnabled=false makes one participant a quorum");

    let two = "dataDir=/var/zk\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n";
    let loaded = parse_full(two, &myid("1"), &[], &[]).expect("valid");
    assert!(loaded.config.is_distributed());
    assert!(warnings_of(&loaded, WarningKind::Quorum)[0].contains("No server failure will be tolerated"));

    let observer = format!("{two}server.3=c:1:2:observer\n");
    let c = parse_full(&observer, &myid("3"), &[], &[]).expect("valid").config;
    assert_eq!(c.peer_type, LearnerType::Observer, "the servers list decides the peer type");
    assert_eq!(c.quorum.participant_count(), 2);
}

#[test]
fn server_line_forms() {
    let text = format!(
        "{Q3}server.4=[2001:db8::4]:2888:3888:observer;[2001:db8::4]:2181\nserver.5=10.0.0.5:2888:3888:Participant;2182\n"
    );
    let c = parse_full(&text, &myid("4"), &[], &[]).expect("valid").config;
    let s4 = &c.quorum.servers[&ServerId(4)];
    assert_eq!(s4.learner_type, LearnerType::Observer);
    assert_eq!(s4.addresses[0].host, "2001:db8::4");
    assert_eq!((s4.addresses[0].quorum_port, s4.addresses[0].election_port), (2888, 3888));
    assert_eq!(c.client_address, Some(HostPort::new("2001:db8::4", 2181)));
    assert_eq!(c.my_server().map(|s| s.id), Some(ServerId(4)));
    assert_eq!(c.quorum.servers[&ServerId(5)].client_address, Some(HostPort::wildcard(2182)));
    assert_eq!(c.quorum.participant_count(), 4);

    let e = parse_full(&format!("{Q3}server.4=10.0.0.4:2888:3888 \n"), &myid("1"), &[], &[])
        .expect_err("trailing space");
    assert_eq!(
        e.to_string(),
        "zoo.cfg:7: invalid value \"10.0.0.4:2888:3888 \" for server.4: Address unresolved: 10.0.0.4:3888 "
    );
}

#[test]
fn multiple_addresses_need_the_system_property() {
    let text = format!("{Q3}multiAddress.enabled=true\nserver.4=10.0.0.4:2888:3888|10.0.1.4:2888:3888\n");
    let e = parse_full(&text, &myid("1"), &[], &[]).expect_err("the zoo.cfg key is not enough in 3.8");
    assert!(e.to_string().contains("Multiple address feature is disabled"), "{e}");
    let c =
        parse_full(&text, &myid("1"), &[], &["-Dzookeeper.multiAddress.enabled=true"]).expect("valid").config;
    assert_eq!(c.quorum.servers[&ServerId(4)].addresses.len(), 2);
    assert!(c.multi_address.enabled);
}

#[test]
fn client_address_of_this_server() {
    // The line's client address wins when it agrees with the static one.
    let text = format!("{Q3}clientPort=2181\nserver.4=10.0.0.4:2888:3888;10.0.0.4:2181\n");
    let c = parse_full(&text, &myid("4"), &[], &[]).expect("valid").config;
    assert_eq!(c.client_address, Some(HostPort::new("10.0.0.4", 2181)));
    // A different port is an error naming both.
    let text = format!("{Q3}clientPort=2181\nserver.4=10.0.0.4:2888:3888;2182\n");
    let e = parse_full(&text, &myid("4"), &[], &[]).expect_err("conflict");
    assert_eq!(
        e.to_string(),
        "zoo.cfg:7: client address for this server (id = 4) in static config file is 0.0.0.0:2181 is different \
         from client address found in dynamic file: 0.0.0.0:2182"
    );
    // A line without one takes the static address.
    let text = format!("{Q3}clientPort=2181\n");
    let c = parse_full(&text, &myid("2"), &[], &[]).expect("valid").config;
    let me = c.my_server().expect("listed");
    assert_eq!(me.client_address, Some(HostPort::wildcard(2181)));
    assert!(me.client_address_from_static);
    assert_eq!(c.quorum.servers[&ServerId(1)].client_address, None);
}

#[test]
fn dynamic_config_file() {
    let servers =
        "server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888;2181\n";
    let files = myid("3").with("/var/zk/zoo.cfg.dynamic.100000000", servers);
    let text =
        "dataDir=/var/zk\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=/var/zk/zoo.cfg.dynamic.100000000\n";
    let c = parse_full(text, &files, &[], &[]).expect("valid").config;
    assert!(c.is_distributed());
    assert_eq!(c.quorum.version, Some(0x1_0000_0000));
    assert_eq!(c.client_address, Some(HostPort::wildcard(2181)));
    assert_eq!(c.dynamic_config_file.as_deref(), Some(Path::new("/var/zk/zoo.cfg.dynamic.100000000")));

    let files = myid("3").with("/var/zk/dyn", format!("{servers}tickTime=4\n"));
    let text = "dataDir=/var/zk\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=/var/zk/dyn\n";
    let e = parse_full(text, &files, &[], &[]).expect_err("only quorum keys");
    assert_eq!(e.to_string(), "/var/zk/dyn:4: Unrecognised parameter: tickTime");
}

#[test]
fn extended_types_limit_server_ids_in_quorum_mode() {
    let text = "dataDir=/var/zk\ninitLimit=5\nsyncLimit=2\nextendedTypesEnabled=true\nserver.300=a:1:2\nserver.2=b:1:2\n";
    let e = parse_full(text, &myid("300"), &[], &[]).expect_err("too large");
    assert!(e.to_string().contains("Cannot be larger than 254"), "{e}");
    assert!(parse_full(&text.replace("300", "254"), &myid("254"), &[], &[]).is_ok());
}

// --- myid ---------------------------------------------------------------------------------------

#[test]
fn myid_file() {
    let c = parse_full(BASE, &myid("7\n"), &[], &[]).expect("myid is read in standalone mode too").config;
    assert_eq!(c.server_id, Some(ServerId(7)));
    let e = parse_full(BASE, &myid("seven\n"), &[], &[]).expect_err("malformed");
    assert_eq!(e.to_string(), "/var/zk/myid:1: invalid value \"seven\" for myid: server id is not a number");
    // rzk trims whitespace that ZooKeeper would refuse.
    let c = parse_full(BASE, &myid(" 3 \r\n"), &[], &[]).expect("trimmed").config;
    assert_eq!(c.server_id, Some(ServerId(3)));
    // -1 is ZooKeeper's "unset".
    let loaded = parse_full(BASE, &myid("-1"), &[], &[]).expect("valid");
    assert_eq!(loaded.config.server_id, None);
    assert_eq!(warnings_of(&loaded, WarningKind::ValueAdjusted).len(), 1);
}

// --- System properties: -D, JVMFLAGS, zoo.cfg fallthrough --------------------------------------

#[test]
fn jvm_flags_and_command_line_defines() {
    let env = [
        (
            "SERVER_JVMFLAGS",
            "-Xmx1g -Dzookeeper.snapCount=5000 -Djute.maxbuffer=0x200000 -Dreadonlymode.enabled=true",
        ),
        (
            "JVMFLAGS",
            "-Dzookeeper.DigestAuthenticationProvider.superDigest='super:D/InIHSb7yEEbrWz8b9l71RjZJU='",
        ),
    ];
    let c = parse_full(BASE, &MemFiles::new(), &env, &["-Dznode.container.checkIntervalMs=1000"])
        .expect("valid")
        .config;
    assert_eq!(c.snap_count, 5000);
    assert_eq!(c.jute_maxbuffer_bytes, 0x200000);
    assert_eq!(c.jute_maxbuffer_extrasize_bytes, 0x200000);
    assert!(c.read_only_mode_enabled);
    assert!(c.four_letter_words.is_enabled("isro"), "read-only mode enables isro");
    assert_eq!(c.super_digest.as_deref(), Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU="));
    assert_eq!(c.container_check_interval_ms, 1000);
    assert_eq!(
        c.system_props.entry("zookeeper.snapCount").map(|p| &p.origin),
        Some(&Origin::EnvVar("SERVER_JVMFLAGS".into()))
    );
}

#[test]
fn zoo_cfg_overrides_jvm_flags() {
    let env = [("SERVER_JVMFLAGS", "-Dzookeeper.snapCount=5000 -Dzookeeper.admin.serverPort=9000")];
    let c = parse_full(&with_base("snapCount=7000\n"), &MemFiles::new(), &env, &[]).expect("valid").config;
    assert_eq!(c.snap_count, 7000);
    assert_eq!(c.admin.server_port, 9000);
    assert_eq!(
        c.system_props.entry("zookeeper.snapCount").map(|p| &p.origin),
        Some(&Origin::file_line("zoo.cfg", 3))
    );
}

#[test]
fn fallthrough_keys_become_system_properties() {
    let text = with_base(
        "4lw.commands.whitelist=ruok, mntr\nadmin.serverPort=9090\nadmin.enableServer=false\nsnapshot.compression.method=GZ\n\
         authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n\
         DigestAuthenticationProvider.superDigest=super:xyz=\nextendedTypesEnabled=true\nenforceQuota=true\n\
         skipACL=yes\ndigest.enabled=false\nforceSync=no\nleaderServes=no\ntxnLogSizeLimitInKb=10\n\
         preAllocSize=16\nsnapSizeLimitInKb=0\nfsync.warningthresholdms=50\ncloseSessionTxn.enabled=false\n\
         ssl.keyStore.location=/k.jks\nssl.quorum.trustStore.location=/t.jks\nmaxCnxns=100\nglobalOutstandingLimit=5\n",
    );
    let loaded = ok(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    let words: std::collections::BTreeSet<String> =
        ["mntr", "ruok", "srvr"].iter().map(|s| s.to_string()).collect();
    assert_eq!(c.four_letter_words, FourLetterWords::Only(words));
    assert_eq!(c.admin.server_port, 9090);
    assert!(!c.admin.enabled);
    assert_eq!(c.snapshot_compression, SnapshotCompression::Gzip);
    assert_eq!(
        c.auth_providers.get("sasl").map(String::as_str),
        Some("org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
    );
    assert_eq!(c.super_digest.as_deref(), Some("super:xyz="));
    assert!(c.extended_types_enabled && c.enforce_quota && c.skip_acl);
    assert!(!c.digest_enabled && !c.force_sync && !c.leader_serves && !c.close_session_txn_enabled);
    assert_eq!(c.txn_log_size_limit_bytes, Some(10 * 1024));
    assert_eq!(c.pre_alloc_size_bytes, 16 * 1024);
    assert_eq!(c.snap_size_limit_bytes, None);
    assert_eq!(c.fsync_warning_threshold_ms, 50);
    assert_eq!(c.max_cnxns, 100);
    assert_eq!(c.global_outstanding_limit, 5);
    let ssl: BTreeMap<String, String> = [
        ("zookeeper.ssl.keyStore.location".to_string(), "/k.jks".to_string()),
        ("zookeeper.ssl.quorum.trustStore.location".to_string(), "/t.jks".to_string()),
    ]
    .into();
    assert_eq!(c.ssl, ssl);
    assert_eq!(c.system_props.get("zookeeper.admin.serverPort"), Some("9090"));
}

#[test]
fn unknown_keys_are_kept_and_warned_about() {
    let loaded = ok(&with_base("tickTIme=2000\n  foo.bar = baz \n"));
    let unknown = warnings_of(&loaded, WarningKind::UnknownKey);
    assert_eq!(
        unknown,
        [
            "zoo.cfg:3: unknown key tickTIme; kept as system property zookeeper.tickTIme, as ZooKeeper does",
            "zoo.cfg:4: unknown key foo.bar; kept as system property zookeeper.foo.bar, as ZooKeeper does",
        ]
    );
    assert_eq!(loaded.config.system_props.get("zookeeper.foo.bar"), Some("baz"), "value trimmed");
    assert_eq!(loaded.config.tick_time_ms, 3000, "the misspelt key does not set tickTime");
}

#[test]
fn keys_that_only_work_as_jvm_flags_are_flagged() {
    let loaded = ok(&with_base(
        "jute.maxbuffer=4194304\nreadonlymode.enabled=true\nznode.container.checkIntervalMs=5\n",
    ));
    let no_effect = warnings_of(&loaded, WarningKind::NoEffect);
    assert_eq!(no_effect.len(), 3, "{no_effect:?}");
    assert!(
        no_effect[0].starts_with("zoo.cfg:3: jute.maxbuffer has no effect in zoo.cfg"),
        "{}",
        no_effect[0]
    );
    assert!(no_effect[0].contains("-Djute.maxbuffer=4194304"));
    let c = loaded.config;
    assert_eq!(c.jute_maxbuffer_bytes, 0xfffff, "as in ZooKeeper, the zoo.cfg line changes nothing");
    assert!(!c.read_only_mode_enabled);
    assert_eq!(c.container_check_interval_ms, 60_000);
    assert_eq!(c.system_props.get("zookeeper.jute.maxbuffer"), Some("4194304"));
}

#[test]
fn values_zookeeper_ignores_or_reads_oddly_are_warned_about() {
    let text = with_base(
        "snapCount=lots\nforceSync=false\nskipACL=true\ndigest.enabled=no\nadmin.enableServer=FALSE\n\
         snapshot.compression.method=lz4\npreAllocSize=0x10\nmaxCnxns=-3\nelectionPortBindRetry=-1\n\
         autopurge.snapRetainCount=1\nglobalOutstandingLimit=010\n",
    );
    let loaded = ok(&text);
    let c = &loaded.config;
    assert_eq!(c.snap_count, 100_000);
    assert!(c.force_sync, "only \"no\" turns fsync off");
    assert!(!c.skip_acl, "only \"yes\" skips ACLs");
    assert!(!c.digest_enabled, "parseBoolean reads \"no\" as false");
    assert!(c.admin.enabled, "only exactly \"false\" disables the admin server");
    assert_eq!(c.snapshot_compression, SnapshotCompression::Checked);
    assert_eq!(c.pre_alloc_size_bytes, 65_536 * 1024, "preAllocSize uses Long.parseLong, not decode");
    assert_eq!(c.max_cnxns, 0);
    assert_eq!(c.election_port_bind_retry, 3);
    assert_eq!(c.snap_retain_count, 3);
    assert_eq!(c.global_outstanding_limit, 8, "Integer.getInteger decodes 010 as octal");
    let all: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let expect = [
        "zoo.cfg:3: ignoring invalid value \"lots\" for snapCount (system property zookeeper.snapCount): not an integer; using 100000, as ZooKeeper does",
        "zoo.cfg:4: forceSync (system property zookeeper.forceSync) = \"false\" is read as \"yes\" (only exactly \"no\" turns it off)",
        "zoo.cfg:5: skipACL (system property zookeeper.skipACL) = \"true\" is read as \"no\" (only exactly \"yes\" turns it on)",
        "zoo.cfg:6: digest.enabled (system property zookeeper.digest.enabled) = \"no\" is read as false (ZooKeeper accepts only \"true\")",
        "zoo.cfg:7: admin.enableServer (system property zookeeper.admin.enableServer) = \"FALSE\" leaves the admin server on (only exactly \"false\" turns it off)",
        "zoo.cfg:8: ignoring invalid value \"lz4\" for snapshot.compression.method (system property zookeeper.snapshot.compression.method): expected \"\", \"gz\" or \"snappy\"; using no compression, as ZooKeeper does",
        "zoo.cfg:9: ignoring invalid value \"0x10\" for preAllocSize (system property zookeeper.preAllocSize): not an integer; using 65536 KiB, as ZooKeeper does",
        "zoo.cfg:10: maxCnxns (system property zookeeper.maxCnxns) = -3 is below 0; using 0, as ZooKeeper does",
        "zoo.cfg:11: electionPortBindRetry (system property zookeeper.electionPortBindRetry) = -1 is below 0; using 3, as ZooKeeper does",
        "zoo.cfg:12: Invalid autopurge.snapRetainCount: 1. Defaulting to 3",
    ];
    for e in expect {
        assert!(all.iter().any(|w| w == e), "missing warning:\n  {e}\nin:\n  {}", all.join("\n  "));
    }
    assert_eq!(all.len(), expect.len(), "{all:#?}");
}

#[test]
fn quorum_only_system_properties_stop_only_a_quorum_peer() {
    let standalone = ok(&with_base("cnxTimeout=soon\n"));
    assert_eq!(standalone.config.cnx_timeout_ms, 5000);
    assert_eq!(warnings_of(&standalone, WarningKind::ValueIgnored).len(), 1);
    let text = format!("{Q3}cnxTimeout=soon\n");
    let e = parse_full(&text, &myid("1"), &[], &[]).expect_err("QuorumCnxManager fails on it");
    assert_eq!(e.to_string(), "zoo.cfg:7: invalid value \"soon\" for zookeeper.cnxTimeout: not an integer");
}

#[test]
fn admin_port_out_of_range_fails_only_when_the_admin_server_runs() {
    let e = err(&with_base("admin.serverPort=70000\n"));
    assert_eq!(
        e.to_string(),
        "zoo.cfg:3: invalid value \"70000\" for zookeeper.admin.serverPort: port out of range (0-65535)"
    );
    assert!(parse(&with_base("admin.serverPort=70000\nadmin.enableServer=false\n")).is_ok());
}

#[test]
fn secure_client_port_registers_the_x509_provider() {
    let c = ok("dataDir=/d\nsecureClientPort=2281\n").config;
    assert_eq!(c.secure_client_address, Some(HostPort::wildcard(2281)));
    assert_eq!(c.client_address, None);
    assert_eq!(
        c.auth_providers.get("x509").map(String::as_str),
        Some("org.apache.zookeeper.server.auth.X509AuthenticationProvider")
    );
    let e = parse_full(
        "dataDir=/d\nsecureClientPort=2281\n",
        &MemFiles::new(),
        &[],
        &["-Dzookeeper.ssl.authProvider=foo"],
    )
    .expect_err("no provider for foo");
    assert_eq!(
        e.to_string(),
        "command line: No auth provider configured for the SSL authentication scheme 'foo'."
    );
}

#[test]
fn datadir_autocreate_disable_env() {
    let c = parse_full(BASE, &MemFiles::new(), &[("ZOO_DATADIR_AUTOCREATE_DISABLE", "1")], &[])
        .expect("valid")
        .config;
    assert!(!c.datadir_autocreate);
}

#[test]
fn relative_data_dir_is_warned_about_unless_dot_slash() {
    let loaded = ok("dataDir=data\nclientPort=1\n");
    assert_eq!(
        warnings_of(&loaded, WarningKind::RelativePath),
        ["zoo.cfg:1: data is relative. Prepend ./ to indicate that you're sure!"]
    );
    assert!(ok("dataDir=./data\nclientPort=1\n").warnings.is_empty());
}

#[test]
fn session_timeouts_follow_tick_time() {
    let c = ok(&with_base("tickTime=100\n")).config;
    assert_eq!((c.min_session_timeout_ms, c.max_session_timeout_ms), (200, 2000));
    let c = ok(&with_base("tickTime=100\nminSessionTimeout=-1\nmaxSessionTimeout=5000\n")).config;
    assert_eq!((c.min_session_timeout_ms, c.max_session_timeout_ms), (200, 5000));
}

// --- The loader ---------------------------------------------------------------------------------

#[test]
fn load_reads_zoo_cfg_and_myid_from_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    std::fs::write(data.join("myid"), "2\n").expect("myid");
    let servers = "server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n";
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(&cfg, format!("dataDir={}\ninitLimit=5\nsyncLimit=2\nnope=1\n{servers}", data.display()))
        .expect("cfg");
    let env = vec![("SERVER_JVMFLAGS".to_string(), "-Dzookeeper.snapCount=10 -Dx".to_string())];
    let loaded = load(&cfg, env, &["-Dzookeeper.globalOutstandingLimit=3".to_string()]).expect("valid");
    assert_eq!(loaded.config.server_id, Some(ServerId(2)));
    assert!(loaded.config.is_distributed());
    assert_eq!(loaded.config.snap_count, 10);
    assert_eq!(loaded.config.global_outstanding_limit, 3);
    assert_eq!(loaded.config.config_file.as_deref(), Some(cfg.as_path()));
    assert_eq!(loaded.config.system_props.get("x"), Some(""));
    assert_eq!(warnings_of(&loaded, WarningKind::UnknownKey).len(), 1);

    // A directory named myid counts as no myid (ZooKeeper checks isFile).
    std::fs::remove_file(data.join("myid")).expect("rm");
    std::fs::create_dir(data.join("myid")).expect("mkdir");
    let e = load(&cfg, Vec::<(String, String)>::new(), &[]).expect_err("quorum needs myid");
    assert_eq!(e.key(), "myid");

    let missing = dir.path().join("missing.cfg");
    let e = load(&missing, Vec::<(String, String)>::new(), &[]).expect_err("no file");
    assert!(matches!(e, ConfigError::Read { .. }));
    assert!(e.to_string().starts_with(&format!("cannot read {}", missing.display())), "{e}");
}

#[test]
fn embedded_default_config_is_valid_and_printable() {
    let c = Config::embedded_default();
    assert!(!c.is_distributed());
    assert_eq!(c.client_address, Some(HostPort::new("127.0.0.1", 2181)));
    assert!(rzk_config::EMBEDDED_DEFAULT_CONFIG.contains("4lw.commands.whitelist=*"));
    // Printed and saved as a zoo.cfg, it gives the same configuration.
    let name = Path::new(rzk_config::EMBEDDED_DEFAULT_NAME);
    let text = rzk_config::EMBEDDED_DEFAULT_CONFIG.as_bytes();
    let again = parse_config(name, text, SystemProps::new(), &MemFiles::new()).expect("valid").config;
    assert_eq!(Config { config_file: None, ..again }, c);
}
