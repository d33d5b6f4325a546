//! Process figures from Linux's /proc: resident memory (`VmRSS` of /proc/PID/status) and CPU time
//! (utime + stime of /proc/PID/stat, all threads). The bench reads its own and, given
//! `--server-pid`, the server's, so a report shows whether the client or the server was the busy
//! one. Elsewhere than Linux these read `None`.

use std::time::Instant;

/// Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on every Linux ABI rzk targets).
const TICKS_PER_S: f64 = 100.0;

/// Resident memory of `pid` in KiB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_rss_kb(&text)
}

/// CPU seconds (user + system) used so far by `pid`, or by this process for `None`.
pub fn cpu_s(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    parse_stat_cpu_ticks(&text).map(|t| t as f64 / TICKS_PER_S)
}

fn parse_status_rss_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime: fields 14 and 15 of stat, counted after the command name, which is in
/// parentheses and may itself hold spaces and parentheses.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU used by the bench and the server over a measured interval.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    server_pid: Option<u32>,
    client0: Option<f64>,
    server0: Option<f64>,
    started: Instant,
}

/// What a [`CpuMeter`] measured, in CPU seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    /// The wall time measured over.
    pub wall_s: f64,
    pub client_s: Option<f64>,
    pub server_s: Option<f64>,
}

impl CpuMeter {
    pub fn start(server_pid: Option<u32>) -> CpuMeter {
        CpuMeter {
            server_pid,
            client0: cpu_s(None),
            server0: server_pid.and_then(|p| cpu_s(Some(p))),
            started: Instant::now(),
        }
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    pub fn stop(&self) -> CpuUse {
        let diff = |a: Option<f64>, b: Option<f64>| Some(((b? - a?) * 100.0).round() / 100.0);
        CpuUse {
            wall_s: (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            client_s: diff(self.client0, cpu_s(None)),
            server_s: diff(self.server0, self.server_pid.and_then(|p| cpu_s(Some(p)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_stat() {
        let status = "Name:\tjava\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nThreads:\t40\n";
        assert_eq!(parse_status_rss_kb(status), Some(123456));
        assert_eq!(parse_status_rss_kb("Name: x\n"), None);
        // A command name with a space and a parenthesis does not shift the fields.
        let stat = "4242 (my (cmd) x) S 1 4242 4242 0 -1 4194560 1 0 0 0 250 75 0 0 20 0 8 0 100 0 0";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(325));
        assert_eq!(parse_stat_cpu_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn reads_this_process() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        assert!(cpu_s(None).is_some());
        assert!(rss_kb(std::process::id()).is_some_and(|kb| kb > 0));
        let m = CpuMeter::start(Some(std::process::id()));
        let used = m.stop();
        assert!(used.client_s.is_some_and(|s| s >= 0.0) && used.server_s.is_some());
    }
}
