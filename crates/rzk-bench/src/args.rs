//! The command line of `rzk bench`: the options every workload shares (server, sessions,
//! requests in flight, how long, value size, output) and one subcommand per workload with its
//! own knobs. Parsed by clap, then checked against the bench's limits into a [`Bench`].

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Sessions one run may open. Held ones each hold a socket, so the process's open-file limit
/// binds first; `sessions --detach` holds none.
pub const SESSIONS_MAX: u32 = 1_000_000;
/// Requests in flight per session (the client queues up to 10,000 per session).
pub const OUTSTANDING_MAX: u32 = 1_000;
/// Value size: below ZooKeeper's default jute.maxbuffer (1 MiB) with room for the header.
pub const VALUE_BYTES_MAX: usize = 1_000_000;
/// Nodes `get`/`set`/`mixed` spread over, at most (all created before the run).
pub const KEYS_MAX: u32 = 10_000_000;
/// Longest run, warm-up or hold.
pub const DURATION_S_MAX: f64 = 24.0 * 3600.0;
/// Highest offered load of `--rate`, ops/s over all sessions.
pub const RATE_OPS_PER_S_MAX: u64 = 10_000_000;

#[derive(Debug, Parser)]
#[command(
    name = "rzk bench",
    about = "Load generator for any ZooKeeper-compatible server: ops/s and latency percentiles",
    after_help = "One JSON line per run with --json (fields: see the rzk-bench crate docs)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub workload: WorkloadCmd,
    #[command(flatten)]
    pub common: Common,
}

/// Options shared by every workload (accepted before or after the workload name).
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Server to load, host:port.
    #[arg(long, global = true, default_value = "127.0.0.1:2181")]
    pub server: String,
    /// Client sessions (connections) sending requests.
    #[arg(long, global = true, default_value_t = 8)]
    pub sessions: u32,
    /// Requests in flight per session (pipelined); with --rate, the most a session lets pile up.
    #[arg(long, global = true, default_value_t = 16)]
    pub outstanding: u32,
    /// Offered load in ops/s over all sessions (open loop): requests leave on a fixed schedule and
    /// latency counts from the scheduled time, so a server that falls behind is charged for the
    /// wait (no coordinated omission). Without it, each session keeps --outstanding in flight.
    #[arg(long, global = true)]
    pub rate: Option<u64>,
    /// Measured seconds (after the warm-up).
    #[arg(long, global = true, conflicts_with = "ops")]
    pub duration: Option<f64>,
    /// Measured operations instead of a duration.
    #[arg(long, global = true)]
    pub ops: Option<u64>,
    /// Unmeasured seconds of the same load before measuring (JIT, caches, connections).
    #[arg(long, global = true, default_value_t = 1.0)]
    pub warmup: f64,
    /// Bytes of each value written.
    #[arg(long, global = true, default_value_t = 100)]
    pub value_bytes: usize,
    /// Nodes that get, set and mixed spread over (created before measuring).
    #[arg(long, global = true, default_value_t = 1000)]
    pub keys: u32,
    /// Parent of everything the bench creates (one child per run).
    #[arg(long, global = true, default_value = "/rzk-bench")]
    pub prefix: String,
    /// Session timeout asked for, in milliseconds.
    #[arg(long, global = true, default_value_t = 30_000)]
    pub session_timeout_ms: u64,
    /// Pid of the server process: its CPU time and resident memory are reported (Linux /proc).
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Spread the sessions over this many loopback source addresses (127.0.0.1, 127.0.0.2, ..):
    /// each has its own ~28,000 ephemeral ports. Only for a server on 127.0.0.0/8.
    #[arg(long, global = true, default_value_t = 1)]
    pub source_ips: u8,
    /// Runtime threads of the bench (default: the machine's cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// A label copied into the JSON line (e.g. "rzk" or "zookeeper").
    #[arg(long, global = true)]
    pub label: Option<String>,
    /// Print one JSON line on stdout instead of the text summary.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum WorkloadCmd {
    /// Create new nodes (unique paths, no sequential flag).
    Create,
    /// setData on existing nodes.
    Set,
    /// getData on existing nodes.
    Get,
    /// getData and setData on existing nodes.
    Mixed {
        /// Share of reads, in percent.
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(0..=100))]
        read_percent: u8,
    },
    /// K sessions watch one node; one set; time until every notification arrived.
    Watch {
        /// Watching sessions.
        #[arg(long, default_value_t = 1000)]
        watchers: u32,
        /// Measured rounds (one set each; a first unmeasured round warms up).
        #[arg(long, default_value_t = 5)]
        rounds: u32,
    },
    /// Open K sessions as fast as possible: connect rate, and server memory with --server-pid.
    Sessions {
        /// Sessions to open (held until all are open, then closed).
        #[arg(long, default_value_t = 1000)]
        count: u32,
        /// Connects in flight.
        #[arg(long, default_value_t = 64)]
        parallel: u32,
        /// Seconds to hold the sessions open after the last one connected.
        #[arg(long, default_value_t = 0.0)]
        hold: f64,
        /// Close each connection right after its handshake, without closing its session: the
        /// server holds the session until its timeout, so a run can leave more sessions on the
        /// server than this process may hold sockets. The server's session count (`mntr`
        /// zk_global_sessions) is read once all are open.
        #[arg(long, conflicts_with = "hold")]
        detach: bool,
    },
    /// No server: the disk's floor under write latency at --rate (paced writes of a setData
    /// txn's size, group commit, one fdatasync per batch, into a sparse file as the logs are).
    Disk {
        /// Directory to write the file in (put it where the servers' dataDir is).
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
        /// Share of reads, in percent (they cost nothing; as mixed's --read-percent).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        read_percent: u8,
    },
    /// Build N nodes under a parent, pipelined (for memory and restart measurements).
    Load {
        /// Nodes to create.
        #[arg(long)]
        nodes: u64,
        /// Their parent (default: <prefix>/load).
        #[arg(long)]
        parent: Option<String>,
    },
}

/// What to run, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Bench {
    pub workload: Workload,
    pub server: String,
    pub sessions: u32,
    pub outstanding: u32,
    pub rate: Option<u64>,
    pub stop: Stop,
    pub warmup: Duration,
    pub value_bytes: usize,
    pub keys: u32,
    pub prefix: String,
    pub session_timeout: Duration,
    pub server_pid: Option<u32>,
    pub source_ips: u8,
    pub threads: usize,
    pub label: Option<String>,
    pub json: bool,
}

/// When the measured part ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    After(Duration),
    Ops(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    Create,
    Set,
    Get,
    Mixed { read_percent: u8 },
    Watch { watchers: u32, rounds: u32 },
    Sessions { count: u32, parallel: u32, hold: Duration, detach: bool },
    Load { nodes: u64, parent: String },
    Disk { dir: std::path::PathBuf, read_percent: u8 },
}

impl Workload {
    /// The name used on the command line and in the JSON line.
    pub fn name(&self) -> &'static str {
        match self {
            Workload::Create => "create",
            Workload::Set => "set",
            Workload::Get => "get",
            Workload::Mixed { .. } => "mixed",
            Workload::Watch { .. } => "watch",
            Workload::Sessions { .. } => "sessions",
            Workload::Load { .. } => "load",
            Workload::Disk { .. } => "disk",
        }
    }
}

/// What parsing ended with: a bench to run, or text to print (help, version) and an exit code.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Bench>),
    Exit { text: String, code: i32 },
}

/// Parses the arguments after `bench`.
pub fn parse(args: &[String]) -> Parsed {
    let argv = std::iter::once("rzk bench".to_owned()).chain(args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => match check(cli) {
            Ok(b) => Parsed::Run(Box::new(b)),
            Err(msg) => Parsed::Exit { text: format!("rzk bench: {msg}\n"), code: 2 },
        },
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            Parsed::Exit { text: e.render().to_string(), code }
        }
    }
}

/// Checks the parsed options against the limits and builds the [`Bench`].
pub fn check(cli: Cli) -> Result<Bench, String> {
    let c = cli.common;
    in_range("--sessions", u64::from(c.sessions), 1, u64::from(SESSIONS_MAX))?;
    in_range("--outstanding", u64::from(c.outstanding), 1, u64::from(OUTSTANDING_MAX))?;
    in_range("--value-bytes", c.value_bytes as u64, 0, VALUE_BYTES_MAX as u64)?;
    if let Some(r) = c.rate {
        in_range("--rate", r, 1, RATE_OPS_PER_S_MAX)?;
    }
    in_range("--keys", u64::from(c.keys), 1, u64::from(KEYS_MAX))?;
    let warmup = seconds("--warmup", c.warmup, true)?;
    let stop = match (c.duration, c.ops) {
        (_, Some(0)) => return Err("--ops must be at least 1".into()),
        (_, Some(n)) => Stop::Ops(n),
        (Some(d), None) => Stop::After(seconds("--duration", d, false)?),
        (None, None) => Stop::After(Duration::from_secs(10)),
    };
    check_prefix(&c.prefix)?;
    in_range("--source-ips", u64::from(c.source_ips), 1, 250)?;
    let workload = workload(cli.workload, &c.prefix)?;
    let threads = match c.threads {
        Some(0) => return Err("--threads must be at least 1".into()),
        Some(t) => t,
        None => std::thread::available_parallelism().map(usize::from).unwrap_or(2),
    };
    Ok(Bench {
        workload,
        server: c.server,
        sessions: c.sessions,
        outstanding: c.outstanding,
        rate: c.rate,
        stop,
        warmup,
        value_bytes: c.value_bytes,
        keys: c.keys,
        prefix: c.prefix,
        session_timeout: Duration::from_millis(c.session_timeout_ms),
        server_pid: c.server_pid,
        source_ips: c.source_ips,
        threads,
        label: c.label,
        json: c.json,
    })
}

fn workload(cmd: WorkloadCmd, prefix: &str) -> Result<Workload, String> {
    Ok(match cmd {
        WorkloadCmd::Create => Workload::Create,
        WorkloadCmd::Set => Workload::Set,
        WorkloadCmd::Get => Workload::Get,
        WorkloadCmd::Mixed { read_percent } => Workload::Mixed { read_percent },
        WorkloadCmd::Watch { watchers, rounds } => {
            in_range("--watchers", u64::from(watchers), 1, u64::from(SESSIONS_MAX))?;
            in_range("--rounds", u64::from(rounds), 1, 1_000_000)?;
            Workload::Watch { watchers, rounds }
        }
        WorkloadCmd::Sessions { count, parallel, hold, detach } => {
            in_range("--count", u64::from(count), 1, u64::from(SESSIONS_MAX))?;
            in_range("--parallel", u64::from(parallel), 1, u64::from(SESSIONS_MAX))?;
            Workload::Sessions { count, parallel, hold: seconds("--hold", hold, true)?, detach }
        }
        WorkloadCmd::Disk { dir, read_percent } => Workload::Disk { dir, read_percent },
        WorkloadCmd::Load { nodes, parent } => {
            in_range("--nodes", nodes, 1, u64::from(u32::MAX))?;
            let parent = parent.unwrap_or_else(|| format!("{}/load", prefix.trim_end_matches('/')));
            check_prefix(&parent)?;
            Workload::Load { nodes, parent }
        }
    })
}

fn in_range(name: &str, v: u64, lo: u64, hi: u64) -> Result<(), String> {
    if v < lo || v > hi { Err(format!("{name} must be in {lo}..={hi} (got {v})")) } else { Ok(()) }
}

fn seconds(name: &str, s: f64, zero_ok: bool) -> Result<Duration, String> {
    let ok = s.is_finite() && s <= DURATION_S_MAX && (s > 0.0 || (zero_ok && s == 0.0));
    if !ok {
        let least = if zero_ok { "0" } else { "above 0" };
        return Err(format!("{name} must be {least} and at most {DURATION_S_MAX} seconds (got {s})"));
    }
    Ok(Duration::from_secs_f64(s))
}

/// A parent path: absolute, not the root, no trailing or doubled slash.
fn check_prefix(p: &str) -> Result<(), String> {
    let ok = p.starts_with('/') && p.len() > 1 && !p.ends_with('/') && !p.contains("//");
    if ok { Ok(()) } else { Err(format!("{p:?} is not a path like /rzk-bench")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Bench {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args) {
            Parsed::Run(b) => *b,
            Parsed::Exit { text, code } => panic!("exit {code}: {text}"),
        }
    }

    fn usage_error(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args) {
            Parsed::Run(b) => panic!("parsed: {b:?}"),
            Parsed::Exit { text, code } => {
                assert_eq!(code, 2, "{text}");
                text
            }
        }
    }

    #[test]
    fn defaults() {
        let b = run(&["create"]);
        assert_eq!(b.workload, Workload::Create);
        assert_eq!(b.server, "127.0.0.1:2181");
        assert_eq!((b.sessions, b.outstanding, b.value_bytes, b.keys), (8, 16, 100, 1000));
        assert_eq!(b.stop, Stop::After(Duration::from_secs(10)));
        assert_eq!(b.warmup, Duration::from_secs(1));
        assert!(!b.json && b.threads >= 1);
        assert_eq!(b.source_ips, 1);
    }

    #[test]
    fn options_go_before_or_after_the_workload() {
        let a = run(&["--server", "h:1", "--sessions", "3", "set", "--outstanding", "5", "--json"]);
        assert_eq!((a.server.as_str(), a.sessions, a.outstanding, a.json), ("h:1", 3, 5, true));
        let b = run(&["get", "--ops", "500", "--warmup", "0", "--label", "zk", "--server-pid", "42"]);
        assert_eq!(b.stop, Stop::Ops(500));
        assert_eq!((b.warmup, b.label.as_deref(), b.server_pid), (Duration::ZERO, Some("zk"), Some(42)));
        let c = run(&["mixed", "--read-percent", "75", "--duration", "2.5"]);
        assert_eq!(c.workload, Workload::Mixed { read_percent: 75 });
        assert_eq!(c.stop, Stop::After(Duration::from_millis(2500)));
    }

    #[test]
    fn workload_options() {
        assert_eq!(run(&["mixed"]).workload, Workload::Mixed { read_percent: 90 });
        assert_eq!(
            run(&["watch", "--watchers", "10", "--rounds", "2"]).workload,
            Workload::Watch { watchers: 10, rounds: 2 }
        );
        assert_eq!(
            run(&["sessions", "--count", "7"]).workload,
            Workload::Sessions { count: 7, parallel: 64, hold: Duration::ZERO, detach: false }
        );
        assert_eq!(
            run(&["sessions", "--count", "200000", "--detach"]).workload,
            Workload::Sessions { count: 200_000, parallel: 64, hold: Duration::ZERO, detach: true }
        );
        assert_eq!(
            run(&["--prefix", "/p", "load", "--nodes", "9"]).workload,
            Workload::Load { nodes: 9, parent: "/p/load".into() }
        );
        assert_eq!(
            run(&["load", "--nodes", "9", "--parent", "/x/y"]).workload,
            Workload::Load { nodes: 9, parent: "/x/y".into() }
        );
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        usage_error(&[]);
        usage_error(&["nosuch"]);
        usage_error(&["create", "--duration", "1", "--ops", "5"]);
        usage_error(&["mixed", "--read-percent", "101"]);
        assert!(usage_error(&["create", "--sessions", "0"]).contains("--sessions"));
        assert!(usage_error(&["create", "--outstanding", "1001"]).contains("--outstanding"));
        assert!(usage_error(&["create", "--duration", "0"]).contains("--duration"));
        assert!(usage_error(&["create", "--duration", "NaN"]).contains("--duration"));
        assert!(usage_error(&["create", "--warmup=-1"]).contains("--warmup"));
        assert!(usage_error(&["create", "--ops", "0"]).contains("--ops"));
        assert!(usage_error(&["create", "--prefix", "rel"]).contains("rel"));
        assert!(usage_error(&["create", "--prefix", "/a/"]).contains("/a/"));
        assert!(usage_error(&["load"]).contains("--nodes"));
        assert!(usage_error(&["watch", "--watchers", "0"]).contains("--watchers"));
        assert!(usage_error(&["create", "--value-bytes", "2000000"]).contains("--value-bytes"));
        assert!(usage_error(&["sessions", "--source-ips", "0"]).contains("--source-ips"));
    }

    #[test]
    fn help_exits_zero() {
        match parse(&["--help".to_string()]) {
            Parsed::Exit { text, code } => {
                assert_eq!(code, 0);
                assert!(text.contains("watch") && text.contains("--outstanding"), "{text}");
            }
            Parsed::Run(_) => panic!("help ran a bench"),
        }
    }
}
