//! rzk-config: the server's configuration, read as Apache ZooKeeper 3.8 reads it, so that an
//! existing `zoo.cfg`, `myid`, dynamic configuration file and `SERVER_JVMFLAGS` work unchanged.
//!
//! The flow: `jvmflags` turns the launch's `-D` flags into `SystemProps`; `properties` parses
//! zoo.cfg with `java.util.Properties` semantics; `zoo_cfg` handles each key as
//! `QuorumPeerConfig.parseProperties` does (unknown keys become `zookeeper.<key>` system
//! properties); `build` checks ports, tick time and session timeouts; `setup`, `quorum` and
//! `server_entry` read the ensemble and `myid`; `resolve` types the system-property settings; and
//! `build` assembles one `Config`. Everything is pure except `load`, which reads the files. Errors
//! name the key and the file line; warnings list what ZooKeeper would accept silently but an
//! operator should know.
//!
//! The tests compare the properties parser with `java.util.Properties` and the whole reading with
//! ZooKeeper's own `QuorumPeerConfig` (when a JDK and the ZooKeeper jar are installed).
//!
//! Where rzk deliberately differs from ZooKeeper 3.8:
//! - Values ZooKeeper silently ignores, adjusts or misreads (`snapCount=abc`, `forceSync=false`,
//!   `skipACL=true`, `jute.maxbuffer` in zoo.cfg, unknown keys) are read the same way, plus a
//!   warning.
//! - `myid` may have surrounding whitespace; a negative `jute.maxbuffer` falls back to the default.
//! - "My id N not in the peer list", which ZooKeeper reports when the quorum peer starts, is a
//!   configuration error.
//! - Host names are not resolved here (ZooKeeper resolves `clientPortAddress` while parsing); the
//!   server resolves them when it binds or connects. `kerberos.canonicalizeHostNames` is not applied.
//! - `metricsProvider.className` is not loaded as a Java class; names other than ZooKeeper's two
//!   built-in providers (and `prometheus`, rzk's short name for the Prometheus one) get a warning.
//! - `SERVER_JVMFLAGS`/`JVMFLAGS` are split with shell quoting (zkServer.sh leaves quotes literal).
//! - Two lines for one server id (`server.1`, `server.01`): the later line wins (in ZooKeeper,
//!   whichever its hash table yields last).
//! - Only ASCII digits count as digits; a `\uXXXX` escape that leaves a lone surrogate becomes U+FFFD.

mod build;
mod client_sasl;
mod config;
mod embedded;
mod error;
mod files;
mod four_letter_words;
pub mod jaas;
pub mod java;
mod jvmflags;
mod keys;
mod load;
mod myid;
pub mod properties;
mod quorum;
mod resolve;
mod server_entry;
mod setup;
mod sysprops;
mod zoo_cfg;

pub use build::{Loaded, parse_config};
pub use client_sasl::{
    ClientSaslConfig, DEFAULT_SERVER_SECTION, DIGEST_LOGIN_MODULE, JAAS_CONFIG_PROPERTY,
    SERVER_SECTION_PROPERTY,
};
pub use config::{
    AdminServerConfig, Config, DEFAULT_JUTE_MAXBUFFER_BYTES, DEFAULT_TICK_TIME_MS, JvmPauseMonitorConfig,
    MAX_EXTENDED_SERVER_ID, MIN_SNAP_RETAIN_COUNT, MetricsProviderConfig, MultiAddressConfig,
    QuorumSaslConfig, SnapshotCompression,
};
pub use embedded::{EMBEDDED_DEFAULT_CONFIG, EMBEDDED_DEFAULT_NAME, load_embedded};
pub use error::{ConfigError, ConfigWarning, Origin, WarningKind};
pub use files::{ConfigFiles, MemFiles, NoFiles};
pub use four_letter_words::{ALL_FOUR_LETTER_WORDS, FourLetterWords};
pub use jvmflags::{JVMFLAGS_VARS, parse_define, split_words, system_props_from_launch};
pub use keys::{FallthroughKey, ZOO_CFG_KEYS, classify_fallthrough};
pub use load::{FsFiles, load};
pub use myid::{Myid, parse_myid};
pub use properties::{Properties, PropertiesError, Property};
pub use quorum::{Hierarchy, QuorumSpec};
pub use rzk_proto::ServerId;
pub use server_entry::{HostPort, LearnerType, QuorumAddress, QuorumServer, parse_server};
pub use setup::version_from_file_name;
pub use sysprops::{SysProp, SystemProps};
