//! The Prometheus process collector's metrics (`process_*`, which ZooKeeper's provider exports
//! through `DefaultExports` with `exportJvmInfo`), read from /proc off the core, and the file
//! descriptor counts the `open/max_file_descriptor_count` gauges need in any case.

use crate::prometheus::family;

/// `sysconf(_SC_CLK_TCK)` on Linux.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;
/// The page size on the platforms rzk runs on.
const PAGE_BYTES: f64 = 4096.0;

#[derive(Debug, Clone)]
pub struct ProcessFacts {
    /// −1 when unknown.
    pub open_fds: i64,
    pub max_fds: i64,
    /// `process_*` values, when exported.
    pub process: Option<Process>,
}

impl Default for ProcessFacts {
    fn default() -> Self {
        ProcessFacts { open_fds: -1, max_fds: -1, process: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Process {
    pub cpu_seconds: f64,
    pub start_time_seconds: f64,
    pub virtual_memory_bytes: f64,
    pub resident_memory_bytes: f64,
}

impl ProcessFacts {
    /// Blocking: reads /proc.
    pub fn gather(export_process: bool) -> ProcessFacts {
        let fds = crate::four_letter::host::HostFacts::gather(b"mntr", &no_dirs());
        let process = if export_process { read_process() } else { None };
        ProcessFacts { open_fds: fds.open_fds, max_fds: fds.max_fds, process }
    }
}

fn no_dirs() -> crate::four_letter::host::DataDirs {
    crate::four_letter::host::DataDirs { data_dir: Default::default(), data_log_dir: Default::default() }
}

fn read_process() -> Option<Process> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    parse(&stat, &boot)
}

/// From /proc/self/stat (fields after the command name) and /proc/stat's `btime`.
fn parse(stat: &str, proc_stat: &str) -> Option<Process> {
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // Field numbers of proc(5), less the 3 before `state`: utime 14, stime 15, starttime 22,
    // vsize 23, rss 24.
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    let btime: f64 = proc_stat.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()?;
    Some(Process {
        cpu_seconds: (field(14)? + field(15)?) / CLOCK_TICKS_PER_SECOND,
        start_time_seconds: btime + field(22)? / CLOCK_TICKS_PER_SECOND,
        virtual_memory_bytes: field(23)?,
        resident_memory_bytes: field(24)? * PAGE_BYTES,
    })
}

/// The process collector's families (`StandardExports`).
pub fn render(p: &ProcessFacts, out: &mut String) {
    let Some(proc_) = &p.process else { return };
    let one = |name: &str, v: f64| vec![(name.to_owned(), v)];
    family(out, "process_cpu_seconds_total", "counter", &one("process_cpu_seconds_total", proc_.cpu_seconds));
    family(
        out,
        "process_start_time_seconds",
        "gauge",
        &one("process_start_time_seconds", proc_.start_time_seconds),
    );
    if p.open_fds >= 0 {
        family(out, "process_open_fds", "gauge", &one("process_open_fds", p.open_fds as f64));
    }
    if p.max_fds >= 0 {
        family(out, "process_max_fds", "gauge", &one("process_max_fds", p.max_fds as f64));
    }
    family(
        out,
        "process_virtual_memory_bytes",
        "gauge",
        &one("process_virtual_memory_bytes", proc_.virtual_memory_bytes),
    );
    family(
        out,
        "process_resident_memory_bytes",
        "gauge",
        &one("process_resident_memory_bytes", proc_.resident_memory_bytes),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_parses() {
        let stat = "4242 (rzk (x)) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 4 0 1000 \
                    104857600 2560 18446744073709551615";
        let p = parse(stat, "cpu 1 2 3\nbtime 1700000000\n").unwrap();
        assert_eq!(p.cpu_seconds, 3.0);
        assert_eq!(p.start_time_seconds, 1_700_000_010.0);
        assert_eq!(p.virtual_memory_bytes, 104_857_600.0);
        assert_eq!(p.resident_memory_bytes, 2560.0 * 4096.0);
        assert!(parse("garbage", "").is_none());
    }

    #[test]
    fn this_process_reads() {
        let f = ProcessFacts::gather(true);
        assert!(f.open_fds > 0);
        let p = f.process.unwrap();
        assert!(p.resident_memory_bytes > 0.0 && p.start_time_seconds > 1e9);
    }
}
