//! Differential test against Apache ZooKeeper 3.8's own `QuorumPeerConfig.parse`, when its jar is
//! installed (`/usr/share/java/zookeeper.jar` as the Debian package puts it, or `$RZK_ZOOKEEPER_JAR`;
//! otherwise the test prints a note and passes). Each case is a zoo.cfg (plus `myid`, a dynamic
//! file and `-D` flags); both sides must agree on whether it is accepted, and if so on every field
//! both expose, on the servers, and on the system properties that parsing sets.
//!
//! Cases where rzk deliberately differs (see the crate docs) are in `tests/config.rs` instead.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::JavaProgram;
use rzk_config::{Config, Origin, SystemProps, load};

/// Lives in ZooKeeper's package to read the protected SASL fields. For each case directory on
/// stdin: set the case's -D properties, parse DIR/zoo.cfg, print the fields and the system
/// properties the parse added or changed, then restore the system properties.
const ZK_CONFIG_DUMP: &str = r##"
package org.apache.zookeeper.server.quorum;

import java.io.*;
import java.net.InetSocketAddress;
import java.nio.file.*;
import java.util.*;

public class ZkConfigDump {
    public static void main(String[] args) throws Exception {
        BufferedReader cases = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        StringBuilder out = new StringBuilder();
        String dir;
        while ((dir = cases.readLine()) != null) {
            out.append("CASE ").append(dir).append('\n');
            Properties saved = (Properties) System.getProperties().clone();
            for (String line : Files.readAllLines(Paths.get(dir, "sysprops"))) {
                int eq = line.indexOf('=');
                if (eq > 0) System.setProperty(line.substring(0, eq), line.substring(eq + 1));
            }
            QuorumPeerConfig.setStandaloneEnabled(true);
            QuorumPeerConfig.setReconfigEnabled(false);
            Properties before = (Properties) System.getProperties().clone();
            try {
                QuorumPeerConfig c = new QuorumPeerConfig();
                c.parse(dir + "/zoo.cfg");
                dump(c, out);
                TreeMap<String, String> added = new TreeMap<>();
                for (String k : System.getProperties().stringPropertyNames()) {
                    // X509Util's static initialiser sets JDK TLS settings; not part of the config.
                    if (k.startsWith("jdk.")) continue;
                    String v = System.getProperty(k);
                    if (!v.equals(before.getProperty(k))) added.put(k, v);
                }
                for (Map.Entry<String, String> e : added.entrySet()) {
                    out.append("sysprop ").append(e.getKey()).append('=').append(e.getValue()).append('\n');
                }
            } catch (Throwable e) {
                out.append("ERROR\n");
                Throwable t = e;
                while (t != null) { out.append("# ").append(t).append('\n'); t = t.getCause(); }
            }
            System.setProperties(saved);
        }
        System.out.print(out);
    }

    static String addr(InetSocketAddress a) {
        return a == null ? "null" : a.getHostString() + ":" + a.getPort();
    }

    static void dump(QuorumPeerConfig c, StringBuilder out) {
        String sync = System.getProperty("zookeeper.observer.syncEnabled") != null
            ? String.valueOf(Boolean.getBoolean("zookeeper.observer.syncEnabled")) : String.valueOf(c.getSyncEnabled());
        String[][] fields = {
            {"tickTime", "" + c.getTickTime()},
            {"minSessionTimeout", "" + c.getMinSessionTimeout()},
            {"maxSessionTimeout", "" + c.getMaxSessionTimeout()},
            {"initLimit", "" + c.getInitLimit()},
            {"syncLimit", "" + c.getSyncLimit()},
            {"connectToLearnerMasterLimit", "" + c.getConnectToLearnerMasterLimit()},
            {"maxClientCnxns", "" + c.getMaxClientCnxns()},
            {"clientPortListenBacklog", "" + c.getClientPortListenBacklog()},
            {"electionAlg", "" + c.getElectionAlg()},
            {"snapRetainCount", "" + c.getSnapRetainCount()},
            {"purgeInterval", "" + Math.max(0, c.getPurgeInterval())},
            {"syncEnabled", sync},
            {"serverId", "" + c.getServerId()},
            {"distributed", "" + c.isDistributed()},
            {"peerType", c.getPeerType().toString().toLowerCase()},
            {"observerMasterPort", "" + c.getObserverMasterPort()},
            {"quorumListenOnAllIPs", "" + c.getQuorumListenOnAllIPs()},
            {"localSessionsEnabled", "" + c.areLocalSessionsEnabled()},
            {"localSessionsUpgradingEnabled", "" + c.isLocalSessionsUpgradingEnabled()},
            {"standaloneEnabled", "" + QuorumPeerConfig.isStandaloneEnabled()},
            {"reconfigEnabled", "" + QuorumPeerConfig.isReconfigEnabled()},
            {"sslQuorum", "" + c.isSslQuorum()},
            {"portUnification", "" + c.shouldUsePortUnification()},
            {"dataDir", c.getDataDir().getPath()},
            {"dataLogDir", c.getDataLogDir().getPath()},
            {"clientAddress", addr(c.getClientPortAddress())},
            {"secureClientAddress", addr(c.getSecureClientPortAddress())},
            {"metricsProvider", c.getMetricsProviderClassName() + " " + new TreeMap<>(c.getMetricsProviderConfiguration())},
            {"multiAddress", c.isMultiAddressEnabled() + " " + c.isMultiAddressReachabilityCheckEnabled() + " " + c.getMultiAddressReachabilityCheckTimeoutMs()},
            {"jvmPause", c.isJvmPauseMonitorToRun() + " " + c.getJvmPauseInfoThresholdMs() + " " + c.getJvmPauseWarnThresholdMs() + " " + c.getJvmPauseSleepTimeMs()},
            {"quorumSasl", c.quorumEnableSasl + " " + c.quorumServerRequireSasl + " " + c.quorumLearnerRequireSasl},
            {"quorumVersion", Long.toHexString(c.getQuorumVerifier().getVersion())},
        };
        for (String[] f : fields) out.append(f[0]).append('=').append(f[1]).append('\n');
        for (QuorumPeer.QuorumServer s : new TreeMap<>(c.getServers()).values()) {
            List<String> quorum = new ArrayList<>();
            for (InetSocketAddress a : s.addr.getAllAddresses()) quorum.add(addr(a));
            List<String> election = new ArrayList<>();
            for (InetSocketAddress a : s.electionAddr.getAllAddresses()) election.add(addr(a));
            Collections.sort(quorum);
            Collections.sort(election);
            out.append("server.").append(s.id).append('=').append(s.type.toString().toLowerCase())
                .append(" quorum=").append(quorum).append(" election=").append(election)
                .append(" client=").append(addr(s.clientAddr)).append(" static=").append(s.isClientAddrFromStatic).append('\n');
        }
    }
}
"##;

/// A host as `InetSocketAddress.getHostString` prints it: IPv6 literals in full, uncompressed.
fn java_host(host: &str) -> String {
    match host.parse::<std::net::Ipv6Addr>() {
        Ok(v6) => v6.segments().iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":"),
        Err(_) => host.to_string(),
    }
}

/// rzk's view in the same format.
fn rzk_dump(c: &Config, launch: &SystemProps) -> String {
    let addr = |a: &Option<rzk_config::HostPort>| {
        a.as_ref().map_or("null".to_string(), |a| format!("{}:{}", java_host(&a.host), a.port))
    };
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        let _ = writeln!(out, "{name}={value}");
    };
    field("tickTime", c.tick_time_ms.to_string());
    field("minSessionTimeout", c.min_session_timeout_ms.to_string());
    field("maxSessionTimeout", c.max_session_timeout_ms.to_string());
    field("initLimit", c.init_limit_ticks.to_string());
    field("syncLimit", c.sync_limit_ticks.to_string());
    field("connectToLearnerMasterLimit", c.connect_to_learner_master_limit_ticks.to_string());
    field("maxClientCnxns", c.max_client_cnxns.to_string());
    field("clientPortListenBacklog", c.client_port_listen_backlog.to_string());
    field("electionAlg", c.election_alg.to_string());
    field("snapRetainCount", c.snap_retain_count.to_string());
    field("purgeInterval", c.purge_interval_hours.unwrap_or(0).to_string());
    field("syncEnabled", c.sync_enabled.to_string());
    field("serverId", c.server_id.map_or(-1, |id| id.0).to_string());
    field("distributed", c.is_distributed().to_string());
    field("peerType", c.peer_type.to_string());
    field("observerMasterPort", c.observer_master_port.unwrap_or(0).to_string());
    field("quorumListenOnAllIPs", c.quorum_listen_on_all_ips.to_string());
    field("localSessionsEnabled", c.local_sessions_enabled.to_string());
    field("localSessionsUpgradingEnabled", c.local_sessions_upgrading_enabled.to_string());
    field("standaloneEnabled", c.standalone_enabled.to_string());
    field("reconfigEnabled", c.reconfig_enabled.to_string());
    field("sslQuorum", c.ssl_quorum.to_string());
    field("portUnification", c.port_unification.to_string());
    field("dataDir", c.data_dir.display().to_string());
    field("dataLogDir", c.data_log_dir.display().to_string());
    field("clientAddress", addr(&c.client_address));
    field("secureClientAddress", addr(&c.secure_client_address));
    let settings: Vec<String> = c.metrics_provider.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    field("metricsProvider", format!("{} {{{}}}", c.metrics_provider.class_name, settings.join(", ")));
    let m = &c.multi_address;
    field(
        "multiAddress",
        format!("{} {} {}", m.enabled, m.reachability_check_enabled, m.reachability_check_timeout_ms),
    );
    let j = &c.jvm_pause_monitor;
    field(
        "jvmPause",
        format!("{} {} {} {}", j.enabled, j.info_threshold_ms, j.warn_threshold_ms, j.sleep_time_ms),
    );
    let q = &c.quorum_sasl;
    field("quorumSasl", format!("{} {} {}", q.enabled, q.server_required, q.learner_required));
    field("quorumVersion", format!("{:x}", c.quorum.version.unwrap_or(0)));
    for s in c.quorum.servers.values() {
        let mut quorum: Vec<String> =
            s.addresses.iter().map(|a| format!("{}:{}", java_host(&a.host), a.quorum_port)).collect();
        let mut election: Vec<String> =
            s.addresses.iter().map(|a| format!("{}:{}", java_host(&a.host), a.election_port)).collect();
        quorum.sort();
        election.sort();
        let _ = writeln!(
            out,
            "server.{}={} quorum=[{}] election=[{}] client={} static={}",
            s.id,
            s.learner_type,
            quorum.join(", "),
            election.join(", "),
            addr(&s.client_address),
            s.client_address_from_static
        );
    }
    // The properties the parse set: from the config files, or derived, unless a -D already held
    // the same value (Java's before/after comparison cannot see those).
    for (name, p) in c.system_props.iter() {
        let from_parse = matches!(p.origin, Origin::File { .. } | Origin::Derived);
        if from_parse && launch.get(name) != Some(p.value.as_str()) {
            let _ = writeln!(out, "sysprop {name}={}", p.value);
        }
    }
    out
}

/// One case: zoo.cfg (with `$DIR` for the case directory), and optionally myid, -D flags and
/// extra files.
struct Case {
    name: &'static str,
    cfg: &'static str,
    myid: Option<&'static str>,
    defines: &'static [&'static str],
    extra: &'static [(&'static str, &'static str)],
}

const fn case(name: &'static str, cfg: &'static str) -> Case {
    Case { name, cfg, myid: None, defines: &[], extra: &[] }
}

const fn with_myid(name: &'static str, cfg: &'static str, myid: &'static str) -> Case {
    Case { name, cfg, myid: Some(myid), defines: &[], extra: &[] }
}

const Q3: &str = "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\nserver.3=127.0.0.3:2888:3888\n";

fn cases() -> Vec<Case> {
    let debian = std::fs::read_to_string("/etc/zookeeper/conf_example/zoo.cfg")
        .unwrap_or_else(|_| {
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/zookeeper\nclientPort=2181\n".into()
        })
        .replace("dataDir=/tmp/zookeeper", "dataDir=$DIR/data");
    let debian: &'static str = Box::leak(debian.into_boxed_str());
    let q3 = |rest: &str| -> &'static str {
        Box::leak(format!("dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\n{Q3}{rest}").into_boxed_str())
    };
    vec![
        case("debian-example", debian),
        case("minimal", "dataDir=$DIR/data\nclientPort=2181\n"),
        case("no-client-port", "dataDir=$DIR/data\n"),
        case("address-without-port", "dataDir=$DIR/data\nclientPortAddress=127.0.0.1\n"),
        case("client-port-address", "dataDir=$DIR/data\nclientPort=2181\nclientPortAddress=127.0.0.1\n"),
        case("client-port-localhost", "dataDir=$DIR/data\nclientPort=2181\nclientPortAddress=localhost\n"),
        case("client-port-empty-address", "dataDir=$DIR/data\nclientPort=2181\nclientPortAddress=\n"),
        case(
            "client-port-address-with-port",
            "dataDir=$DIR/data\nclientPort=2181\nclientPortAddress=0.0.0.0:2181\n",
        ),
        case("client-port-address-v6", "dataDir=$DIR/data\nclientPort=2181\nclientPortAddress=::1\n"),
        case(
            "client-port-address-v6-brackets",
            "dataDir=$DIR/data\nclientPort=2181\nclientPortAddress=[::1]\n",
        ),
        case("client-port-range", "dataDir=$DIR/data\nclientPort=70000\n"),
        case("client-port-negative", "dataDir=$DIR/data\nclientPort=-5\n"),
        case("tick-abc", "dataDir=$DIR/data\nclientPort=2181\ntickTime=abc\n"),
        case("tick-zero", "dataDir=$DIR/data\nclientPort=2181\ntickTime=0\n"),
        case("tick-spaces", "dataDir=$DIR/data\nclientPort=2181\ntickTime=  2000   \n"),
        case("tick-escaped-key-space", "dataDir=$DIR/data\nclientPort=2181\ntickTime\\ =5\n"),
        case("tick-overflow", "dataDir=$DIR/data\nclientPort=2181\ntickTime=2147483648\n"),
        case("sessions-min-gt-max", "dataDir=$DIR/data\nclientPort=2181\nminSessionTimeout=50000\n"),
        case(
            "sessions-explicit",
            "dataDir=$DIR/data\nclientPort=2181\nminSessionTimeout=100\nmaxSessionTimeout=200\n",
        ),
        case(
            "sessions-minus-one",
            "dataDir=$DIR/data\nclientPort=2181\nminSessionTimeout=-1\nmaxSessionTimeout=-1\ntickTime=100\n",
        ),
        case(
            "snap-retain-low",
            "dataDir=$DIR/data\nclientPort=2181\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=2\n",
        ),
        case("snap-retain-abc", "dataDir=$DIR/data\nclientPort=2181\nautopurge.snapRetainCount=abc\n"),
        case("max-client-cnxns-abc", "dataDir=$DIR/data\nclientPort=2181\nmaxClientCnxns=abc\n"),
        case("data-dir-missing", "clientPort=2181\n"),
        case("data-dir-empty", "dataDir=\nclientPort=2181\n"),
        case("data-log-dir", "dataDir=$DIR/data\ndataLogDir=$DIR/log\nclientPort=2181\n"),
        case("election-alg-1", "dataDir=$DIR/data\nclientPort=2181\nelectionAlg=1\n"),
        case("peer-type-leader", "dataDir=$DIR/data\nclientPort=2181\npeerType=leader\n"),
        case("peer-type-observer-standalone", "dataDir=$DIR/data\nclientPort=2181\npeerType=OBSERVER\n"),
        case("bool-yes", "dataDir=$DIR/data\nclientPort=2181\nlocalSessionsEnabled=yes\n"),
        case(
            "bool-case",
            "dataDir=$DIR/data\nclientPort=2181\nlocalSessionsEnabled=TRUE\nsyncEnabled=False\nquorumListenOnAllIPs=true\n",
        ),
        case("standalone-yes", "dataDir=$DIR/data\nclientPort=2181\nstandaloneEnabled=yes\n"),
        case(
            "unknown-and-fallthrough",
            "dataDir=$DIR/data\nclientPort=2181\nfoo.bar= baz \nsnapCount=5\njute.maxbuffer=99\n4lw.commands.whitelist=*\n",
        ),
        case(
            "metrics",
            "dataDir=$DIR/data\nclientPort=2181\nmetricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider\nmetricsProvider.httpPort=7001\n",
        ),
        case(
            "jvm-pause",
            "dataDir=$DIR/data\nclientPort=2181\njvm.pause.monitor=true\njvm.pause.info-threshold.ms=5\njvm.pause.sleep.time.ms=7\n",
        ),
        case("jvm-pause-bad", "dataDir=$DIR/data\nclientPort=2181\njvm.pause.warn-threshold.ms=x\n"),
        case(
            "sasl-server-without-enable",
            "dataDir=$DIR/data\nclientPort=2181\nquorum.auth.serverRequireSasl=true\n",
        ),
        case(
            "sasl-server-without-learner",
            "dataDir=$DIR/data\nclientPort=2181\nquorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n",
        ),
        case(
            "sasl-ok",
            "dataDir=$DIR/data\nclientPort=2181\nquorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\n",
        ),
        case("secure-port", "dataDir=$DIR/data\nsecureClientPort=2281\n"),
        case("secure-address-without-port", "dataDir=$DIR/data\nsecureClientPortAddress=127.0.0.1\n"),
        Case {
            defines: &["zookeeper.ssl.authProvider=foo"],
            ..case("secure-port-foo-provider", "dataDir=$DIR/data\nsecureClientPort=2281\n")
        },
        Case {
            defines: &["zookeeper.ssl.authProvider=foo", "zookeeper.authProvider.foo=a.B"],
            ..case("secure-port-foo-provider-set", "dataDir=$DIR/data\nsecureClientPort=2281\n")
        },
        case("observer-master-port", "dataDir=$DIR/data\nclientPort=2181\nobserverMasterPort=2191\n"),
        case("observer-master-port-zero", "dataDir=$DIR/data\nclientPort=2181\nobserverMasterPort=0\n"),
        with_myid("myid-standalone", "dataDir=$DIR/data\nclientPort=2181\n", "7\n"),
        with_myid("myid-abc", "dataDir=$DIR/data\nclientPort=2181\n", "abc\n"),
        with_myid("myid-empty", "dataDir=$DIR/data\nclientPort=2181\n", ""),
        with_myid("myid-minus-one", "dataDir=$DIR/data\nclientPort=2181\n", "-1\n"),
        with_myid("quorum-3", q3("clientPort=2181\n"), "2\n"),
        with_myid(
            "quorum-no-init-limit",
            "dataDir=$DIR/data\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n",
            "1",
        ),
        with_myid(
            "quorum-no-sync-limit",
            "dataDir=$DIR/data\ninitLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n",
            "1",
        ),
        case("quorum-no-myid", q3("")),
        with_myid(
            "quorum-negative-limits",
            "dataDir=$DIR/data\ninitLimit=-1\nsyncLimit=-1\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n",
            "1",
        ),
        with_myid(
            "quorum-2",
            "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n",
            "1",
        ),
        with_myid("one-server-standalone", "dataDir=$DIR/data\nserver.1=127.0.0.1:2888:3888;2182\n", "1"),
        with_myid(
            "one-server-not-standalone",
            "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=127.0.0.1:2888:3888;2182\n",
            "1",
        ),
        case("no-servers-not-standalone", "dataDir=$DIR/data\nclientPort=2181\nstandaloneEnabled=false\n"),
        with_myid(
            "client-port-conflict",
            q3("clientPort=2181\nserver.4=127.0.0.4:2888:3888;2182\n").replace("server.3", "#").leak(),
            "4",
        ),
        with_myid(
            "client-port-wildcard-agrees",
            q3("clientPort=2182\nserver.4=127.0.0.4:2888:3888;127.0.0.9:2182\n"),
            "4",
        ),
        with_myid(
            "client-port-address-agrees",
            q3("clientPort=2182\nclientPortAddress=127.0.0.9\nserver.4=127.0.0.4:2888:3888;127.0.0.9:2182\n"),
            "4",
        ),
        with_myid(
            "client-port-address-differs",
            q3("clientPort=2182\nclientPortAddress=127.0.0.8\nserver.4=127.0.0.4:2888:3888;127.0.0.9:2182\n"),
            "4",
        ),
        with_myid("client-from-static", q3("clientPort=2181\n"), "3"),
        case("observers-only", "dataDir=$DIR/data\nclientPort=2181\nserver.1=127.0.0.1:2888:3888:observer\n"),
        case(
            "observer-one-participant",
            "dataDir=$DIR/data\nclientPort=2181\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888:observer\n",
        ),
        with_myid("my-type-observer", q3("server.4=127.0.0.4:2888:3888:observer;127.0.0.1:2183\n"), "4"),
        with_myid("peer-type-mismatch", q3("peerType=observer\n"), "1"),
        with_myid("server-trailing-space", q3("server.4=127.0.0.4:2888:3888   \n"), "1"),
        with_myid("server-type-trailing-space", q3("server.4=127.0.0.4:2888:3888:observer   \n"), "1"),
        with_myid(
            "server-leading-zero-id",
            "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\nserver.01=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n",
            "1",
        ),
        with_myid("server-bad-id", q3("server.x=127.0.0.4:2888:3888\n"), "1"),
        with_myid("server-same-ports", q3("server.4=127.0.0.4:2888:2888\n"), "1"),
        with_myid("server-two-parts", q3("server.4=127.0.0.4:2888\n"), "1"),
        with_myid("server-ipv6", q3("server.4=[::1]:2888:3888;[::1]:2184\n"), "1"),
        with_myid(
            "multi-address-cfg-key-only",
            q3("multiAddress.enabled=true\nserver.4=127.0.0.4:2888:3888|127.0.0.5:2888:3888\n"),
            "1",
        ),
        Case {
            defines: &["zookeeper.multiAddress.enabled=true"],
            ..with_myid(
                "multi-address-sysprop",
                q3("server.4=127.0.0.4:2888:3888|127.0.0.5:2889:3889\n"),
                "1",
            )
        },
        with_myid("static-version", q3("version=100000000\n"), "1"),
        with_myid("static-version-bad", q3("version=zz\n"), "1"),
        with_myid(
            "dynamic-with-static-servers",
            q3("dynamicConfigFile=$DIR/zoo.cfg.dynamic.100000000\n"),
            "1",
        ),
        Case {
            extra: &[("zoo.cfg.dynamic.100000000", Q3)],
            ..with_myid(
                "dynamic",
                "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=$DIR/zoo.cfg.dynamic.100000000\n",
                "2",
            )
        },
        Case {
            extra: &[(
                "zoo.cfg.dynamic",
                "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\nversion=5\n",
            )],
            ..with_myid(
                "dynamic-version-inside",
                "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=$DIR/zoo.cfg.dynamic\n",
                "2",
            )
        },
        Case {
            extra: &[(
                "zoo.cfg.dynamic",
                "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\ntickTime=5\n",
            )],
            ..with_myid(
                "dynamic-unknown-key",
                "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=$DIR/zoo.cfg.dynamic\n",
                "2",
            )
        },
        with_myid(
            "dynamic-missing",
            "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=$DIR/nope\n",
            "2",
        ),
        with_myid("hierarchical", q3("group.1=1:2\ngroup.2=3\nweight.3=2\n"), "1"),
        with_myid("hierarchical-missing-group", q3("group.1=1:2\n"), "1"),
        with_myid(
            "hierarchical-observer-in-group",
            q3("server.4=127.0.0.4:2888:3888:observer\ngroup.1=1:2\ngroup.2=3:4\nweight.4=0\n"),
            "1",
        ),
        with_myid("hierarchical-groupie", q3("groupie=1\n"), "1"),
        with_myid(
            "oracle-ignores-groups",
            "dataDir=$DIR/data\ninitLimit=5\nsyncLimit=2\noraclePath=/x\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\ngroup.1=1\n",
            "1",
        ),
        Case {
            defines: &["zookeeper.snapCount=7", "zookeeper.foo=cmd"],
            ..case("cfg-overrides-define", "dataDir=$DIR/data\nclientPort=2181\nfoo=cfg\n")
        },
        case("unicode-escape-error", "dataDir=$DIR/data\nclientPort=2181\nx=\\u12\n"),
        case("crlf", "dataDir=$DIR/data\r\nclientPort=2181\r\ntickTime=1000\\\r\n  0\r\n"),
    ]
}

fn zookeeper_jar() -> Option<PathBuf> {
    let candidates = [std::env::var("RZK_ZOOKEEPER_JAR").ok(), Some("/usr/share/java/zookeeper.jar".into())];
    candidates.into_iter().flatten().map(PathBuf::from).find(|p| p.is_file())
}

fn write_case(root: &Path, c: &Case) -> PathBuf {
    let dir = root.join(c.name);
    std::fs::create_dir_all(dir.join("data")).expect("case dir");
    let d = dir.display().to_string();
    std::fs::write(dir.join("zoo.cfg"), c.cfg.replace("$DIR", &d)).expect("zoo.cfg");
    if let Some(myid) = c.myid {
        std::fs::write(dir.join("data").join("myid"), myid).expect("myid");
    }
    std::fs::write(dir.join("sysprops"), c.defines.join("\n")).expect("sysprops");
    for (name, text) in c.extra {
        std::fs::write(dir.join(name), text.replace("$DIR", &d)).expect("extra file");
    }
    dir
}

#[test]
fn zoo_cfg_parsing_matches_zookeeper() {
    let Some(jar) = zookeeper_jar() else {
        eprintln!("no ZooKeeper jar (set RZK_ZOOKEEPER_JAR): skipping the comparison with QuorumPeerConfig");
        return;
    };
    let class = "org.apache.zookeeper.server.quorum.ZkConfigDump";
    let Some(java) = JavaProgram::compile(class, ZK_CONFIG_DUMP, &[jar]) else { return };
    let root = common::scratch(&java).join("cases");
    let cases = cases();
    let dirs: Vec<PathBuf> = cases.iter().map(|c| write_case(&root, c)).collect();
    let list: String = dirs.iter().map(|d| format!("{}\n", d.display())).collect();
    let out = java.run(&[], &list);
    let java_dumps: Vec<&str> = out.split("CASE ").skip(1).collect();
    assert_eq!(java_dumps.len(), cases.len());
    let mut mismatches = Vec::new();
    for ((c, dir), java_dump) in cases.iter().zip(&dirs).zip(&java_dumps) {
        let (_, java_dump) = java_dump.split_once('\n').expect("case header");
        let java_errors: Vec<&str> = java_dump.lines().filter(|l| l.starts_with("# ")).collect();
        let java_dump: String =
            java_dump.lines().filter(|l| !l.starts_with("# ")).map(|l| format!("{l}\n")).collect();
        let args: Vec<String> = c.defines.iter().map(|d| format!("-D{d}")).collect();
        let env: [(&str, &str); 0] = [];
        let launch = rzk_config::system_props_from_launch(env, &args).0;
        let ours = match load(&dir.join("zoo.cfg"), env, &args) {
            Ok(loaded) => rzk_dump(&loaded.config, &launch),
            Err(e) => format!("ERROR\n# rzk: {e}\n"),
        };
        if std::env::var_os("RZK_ORACLE_VERBOSE").is_some() && ours.starts_with("ERROR") {
            eprintln!("{}:\n  {}\n  {}", c.name, java_errors.join("\n  "), ours.lines().nth(1).unwrap_or(""));
        }
        let ours_compared: String =
            ours.lines().filter(|l| !l.starts_with("# ")).map(|l| format!("{l}\n")).collect();
        if ours_compared != java_dump {
            let only_java: Vec<&str> =
                java_dump.lines().filter(|l| !ours_compared.lines().any(|o| o == *l)).collect();
            let only_rzk: Vec<&str> = ours.lines().filter(|l| !java_dump.lines().any(|j| j == *l)).collect();
            mismatches.push(format!(
                "case {}:\n  zookeeper only: {only_java:?}\n  {}\n  rzk only: {only_rzk:?}",
                c.name,
                java_errors.join("\n  ")
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}
