//! rzk-bench: `rzk bench`, a load generator on `rzk-client` for any ZooKeeper-compatible server
//! (rzk, Apache ZooKeeper, ...). It sits outside the server: it opens client sessions, sends
//! requests with several in flight per session, and reports throughput and latency, so the same
//! numbers can be taken from rzk and from the reference server on the same machine
//! (`scripts/compare-zookeeper.sh` does that, alternating the two).
//!
//! ```text
//! rzk bench <workload> [--server host:port] [--sessions N] [--outstanding K] [--rate OPS]
//!           [--duration S | --ops N] [--warmup S] [--value-bytes B] [--keys N]
//!           [--prefix /rzk-bench] [--server-pid PID] [--source-ips N] [--label TEXT]
//!           [--threads T] [--json]
//! workloads: create | set | get | mixed [--read-percent P] | watch [--watchers K] [--rounds R]
//!            | sessions [--count K] [--parallel C] [--hold S | --detach] | load --nodes N [--parent PATH]
//!            | disk --rate OPS [--dir DIR] [--read-percent P]
//! ```
//!
//! `disk` talks to no server: it writes a txn's worth of bytes per op on the `--rate` schedule
//! into a file in `--dir` with group commit (one fdatasync per batch), the floor the disk puts
//! under any server's write latency at that load (`workload/disk.rs`).
//!
//! Set-up (sessions, parent nodes, the `--keys` nodes of get/set/mixed) and tear-down are never
//! measured; nor is the warm-up. Nodes are left on the server under
//! `<prefix>/<workload>-<unix ms>-<pid>` (`load`: under `--parent`, default `<prefix>/load`).
//!
//! # The JSON line (`--json`)
//!
//! One object per run on one line of stdout; every field is always present (`null` when it does
//! not apply). Times are seconds unless the name says otherwise.
//!
//! | field | meaning |
//! |---|---|
//! | `tool`, `schema` | `"rzk-bench"`, and the version of this shape (1) |
//! | `workload` | `create`, `set`, `get`, `mixed`, `watch`, `sessions`, `load` or `disk` |
//! | `label` | `--label`, as given |
//! | `server` | `--server` (disk: `--dir`) |
//! | `sessions`, `outstanding` | sessions, requests in flight per session (watch: watchers and 1; sessions: count and parallel connects) |
//! | `rate_ops_per_s` | the offered load of an open-loop run (`--rate`), `null` in a closed loop |
//! | `value_bytes` | bytes of each value written |
//! | `read_percent`, `keys` | mixed's read share; the number of nodes get/set/mixed spread over |
//! | `watchers`, `rounds` | watch: watching sessions, measured rounds |
//! | `count` | sessions: sessions opened |
//! | `nodes` | load: nodes created |
//! | `warmup_s` | unmeasured warm-up before the measured interval |
//! | `duration_s` | the measured interval (watch: the sum of the rounds' fan-out times) |
//! | `ops` | successful operations measured (watch: notifications received; sessions: sessions opened) |
//! | `errors` | failed operations measured (error replies, lost connections, missed notifications) |
//! | `ops_per_s` | `ops / duration_s` |
//! | `latency_us` | `{min, mean, p50, p90, p99, p999, max}` in µs of the successful ops (watch: set sent → notification; sessions: one connect); `null` if none |
//! | `send_lag_us` | open loop (`--rate`): `{min, mean, p50, p90, p99, p999, max}` in µs, how late the measured requests left after their scheduled time (included in `latency_us`); `null` in a closed loop |
//! | `fanout_ms` | watch: `{min, p50, mean, max, rounds: [..]}`, ms from the set to the last notification of each round |
//! | `wall_s` | wall time over which the CPU figures were taken (the measured interval; watch: the measured rounds, arming included) |
//! | `client_cpu_s` | CPU seconds the bench used over `wall_s` (all its threads; `client_cpu_s / wall_s` = cores busy) |
//! | `server_pid`, `server_cpu_s` | `--server-pid`, and that process's CPU seconds over `wall_s` |
//! | `server_rss_before_kb`, `server_rss_kb` | the server's VmRSS before (sessions, load) and after the run |
//! | `server_sessions` | `sessions --detach`: the server's `zk_global_sessions` (mntr) once all sessions were opened; `null` otherwise |
//! | `first_error` | the first error's message, if any |
//!
//! Exit codes: 0 when the run measured at least one operation, 1 when it failed or measured none,
//! 2 for bad arguments.

mod args;
mod connect;
mod error;
mod mntr;
mod pacer;
mod pipe;
mod procstat;
mod progress;
mod report;
mod requests;
mod runner;
mod stats;
mod workload;

use std::io::Write;

pub use args::{Bench, Stop, Workload};
pub use error::BenchError;
pub use report::Report;
pub use stats::Latency;

/// `rzk bench ...` (the arguments after `bench`); prints to stdout and returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    main_with_output(&args, &mut std::io::stdout().lock())
}

/// As [`main`], writing the results (text or the JSON line) to `out`; messages go to stderr.
pub fn main_with_output(args: &[String], out: &mut dyn Write) -> i32 {
    let bench = match args::parse(args) {
        args::Parsed::Run(b) => b,
        args::Parsed::Exit { text, code } => {
            if code == 0 {
                let _ = out.write_all(text.as_bytes());
            } else {
                eprint!("{text}");
            }
            return code;
        }
    };
    match run(&bench) {
        Ok(report) => {
            let text = if bench.json { format!("{}\n", report.json()) } else { report.text() };
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                eprintln!("rzk bench: writing the results: {e}");
                return 1;
            }
            if report.ops == 0 {
                eprintln!("rzk bench: no operation succeeded");
                return 1;
            }
            0
        }
        Err(e) => {
            eprintln!("rzk bench: {e}");
            1
        }
    }
}

/// Runs one bench on a runtime of its own and returns its report.
pub fn run(bench: &Bench) -> Result<Report, BenchError> {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(bench.threads).enable_all().build()?;
    let report = rt.block_on(workload::run(bench));
    // Client drivers of closed sessions end by themselves; do not wait for stragglers.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    report
}
