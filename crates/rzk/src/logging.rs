//! Where `rzk server` logs: stderr always (ZooKeeper's CONSOLE appender), and with
//! `zookeeper.log.dir` set (zkServer.sh sets it) also a size-rotated file, as ZooKeeper's logback
//! ROLLINGFILE appender: `${zookeeper.log.dir}/${zookeeper.log.file}`, renamed to `.1`, `.2`, ...
//! (up to `zookeeper.log.maxbackupindex`) when it passes `zookeeper.log.maxfilesize`. Thresholds
//! come from `zookeeper.console.threshold` and `zookeeper.log.threshold` (logback level names);
//! `RUST_LOG`, when set, overrides both with a tracing filter.
//!
//! With `zookeeper.audit.enable`, the audit log's lines (target
//! `org.apache.zookeeper.audit.Slf4jAuditLogger`) go only to
//! `${zookeeper.log.dir}/${zookeeper.auditlog.file}` (zookeeper_audit.log; 10MB, 10 backups) in
//! logback's audit pattern `%d{ISO8601} %p %c{2}: %m` (times in UTC), as ZooKeeper's logback
//! configuration sends them to its RFAAUDIT appender.
//!
//! Logging starts after the configuration is read (the system properties may come from zoo.cfg);
//! errors before that go to stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use rzk_config::SystemProps;
use rzk_node::audit::AUDIT_TARGET;
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// logback's default `zookeeper.log.maxfilesize` (256MB).
pub const LOG_FILE_MAX_BYTES_DEFAULT: u64 = 256 * 1024 * 1024;
/// logback's default `zookeeper.log.maxbackupindex`.
pub const LOG_BACKUPS_DEFAULT: u32 = 20;
/// logback's default `zookeeper.log.file`.
pub const LOG_FILE_DEFAULT: &str = "zookeeper.log";

/// The file part of the logging set-up, from the system properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLog {
    pub dir: PathBuf,
    pub file: String,
    pub max_bytes: u64,
    pub backups: u32,
    pub threshold: String,
}

impl FileLog {
    /// `None` without `zookeeper.log.dir` (stderr only, as `zkServer.sh start-foreground` without
    /// a log directory).
    pub fn from_props(p: &SystemProps) -> Result<Option<FileLog>, String> {
        let Some(dir) = p.get("zookeeper.log.dir") else { return Ok(None) };
        let max_bytes = match p.get("zookeeper.log.maxfilesize") {
            Some(v) => {
                parse_file_size(v).ok_or_else(|| format!("zookeeper.log.maxfilesize: bad size {v:?}"))?
            }
            None => LOG_FILE_MAX_BYTES_DEFAULT,
        };
        let backups = match p.get("zookeeper.log.maxbackupindex") {
            Some(v) => {
                v.trim().parse().map_err(|_| format!("zookeeper.log.maxbackupindex: bad number {v:?}"))?
            }
            None => LOG_BACKUPS_DEFAULT,
        };
        Ok(Some(FileLog {
            dir: PathBuf::from(dir),
            file: p.get("zookeeper.log.file").unwrap_or(LOG_FILE_DEFAULT).to_owned(),
            max_bytes,
            backups,
            threshold: p.get("zookeeper.log.threshold").unwrap_or("INFO").to_owned(),
        }))
    }
}

/// logback's FileSize syntax: a number with an optional KB, MB or GB suffix (any case).
pub fn parse_file_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = if let Some(n) = t.strip_suffix("GB") {
        (n, 1u64 << 30)
    } else if let Some(n) = t.strip_suffix("MB") {
        (n, 1 << 20)
    } else if let Some(n) = t.strip_suffix("KB") {
        (n, 1 << 10)
    } else {
        (t.as_str(), 1)
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult).filter(|b| *b > 0)
}

/// A logback level name as a tracing filter directive (ALL/TRACE/DEBUG/INFO/WARN/ERROR/OFF).
fn level_directive(level: &str) -> &'static str {
    match level.trim().to_ascii_uppercase().as_str() {
        "ALL" | "TRACE" => "trace",
        "DEBUG" => "debug",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        "OFF" => "off",
        _ => "info",
    }
}

fn filter(threshold: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level_directive(threshold)))
}

/// logback's audit appender: 10MB files, 10 backups.
pub const AUDIT_FILE_MAX_BYTES: u64 = 10 * 1024 * 1024;
pub const AUDIT_BACKUPS: u32 = 10;

/// Installs the subscriber: stderr, plus the rotated file when configured, plus the audit file.
pub fn init(p: &SystemProps) -> Result<(), String> {
    let console_level = p.get("zookeeper.console.threshold").unwrap_or("INFO");
    let not_audit = || filter_fn(|m| m.target() != AUDIT_TARGET);
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![
        tracing_subscriber::fmt::layer()
            .with_writer(io::stderr)
            // Colours only for a terminal: a redirected stderr (zkServer.sh's .out file) stays plain.
            .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
            .with_filter(filter(console_level))
            .with_filter(not_audit())
            .boxed(),
    ];
    if let Some(f) = FileLog::from_props(p)? {
        let writer = RollingFile::open(&f)
            .map_err(|e| format!("cannot open the log file in {}: {e}", f.dir.display()))?;
        layers.push(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Mutex::new(writer))
                .with_filter(filter(&f.threshold))
                .with_filter(not_audit())
                .boxed(),
        );
    }
    if p.get_boolean("zookeeper.audit.enable") {
        let f = FileLog {
            dir: PathBuf::from(p.get("zookeeper.log.dir").unwrap_or(".")),
            file: p.get("zookeeper.auditlog.file").unwrap_or("zookeeper_audit.log").to_owned(),
            max_bytes: AUDIT_FILE_MAX_BYTES,
            backups: AUDIT_BACKUPS,
            threshold: p.get("zookeeper.auditlog.threshold").unwrap_or("INFO").to_owned(),
        };
        let writer = RollingFile::open(&f)
            .map_err(|e| format!("cannot open the audit log in {}: {e}", f.dir.display()))?;
        let min = level_of(&f.threshold);
        layers.push(
            AuditLayer { out: Mutex::new(writer) }
                .with_filter(filter_fn(move |m| m.target() == AUDIT_TARGET && *m.level() <= min))
                .boxed(),
        );
    }
    tracing_subscriber::registry().with(layers).try_init().map_err(|e| e.to_string())
}

fn level_of(threshold: &str) -> Level {
    match level_directive(threshold) {
        "trace" => Level::TRACE,
        "debug" => Level::DEBUG,
        "warn" => Level::WARN,
        "error" | "off" => Level::ERROR,
        _ => Level::INFO,
    }
}

/// Writes audit events as logback's audit pattern: `<time> <LEVEL> audit.Slf4jAuditLogger: <line>`.
struct AuditLayer {
    out: Mutex<RollingFile>,
}

impl<S: tracing::Subscriber> Layer<S> for AuditLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut message = MessageOnly(String::new());
        event.record(&mut message);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let line = format!(
            "{} {} audit.Slf4jAuditLogger: {}\n",
            rzk_server::four_letter::java::iso8601_utc(now_ms),
            event.metadata().level(),
            message.0
        );
        let mut out = self.out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            eprintln!("rzk: cannot write the audit log: {e}");
        }
    }
}

/// Keeps an event's message (the audit line), nothing else.
struct MessageOnly(String);

impl tracing::field::Visit for MessageOnly {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_owned();
        }
    }
}

/// A log file that rolls over by size: `name` → `name.1` → ... → `name.<backups>` (the oldest
/// is dropped), as logback's FixedWindowRollingPolicy with a SizeBasedTriggeringPolicy.
pub struct RollingFile {
    path: PathBuf,
    max_bytes: u64,
    backups: u32,
    file: File,
    written: u64,
}

impl RollingFile {
    pub fn open(cfg: &FileLog) -> io::Result<RollingFile> {
        std::fs::create_dir_all(&cfg.dir)?;
        let path = cfg.dir.join(&cfg.file);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let written = file.metadata()?.len();
        Ok(RollingFile { path, max_bytes: cfg.max_bytes, backups: cfg.backups, file, written })
    }

    fn backup(&self, i: u32) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{i}"));
        PathBuf::from(name)
    }

    fn roll(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.backups == 0 {
            // No window: start the file again.
            self.file = File::create(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.backup(self.backups));
            for i in (1..self.backups).rev() {
                let from = self.backup(i);
                if from.exists() {
                    std::fs::rename(&from, self.backup(i + 1))?;
                }
            }
            std::fs::rename(&self.path, self.backup(1))?;
            self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        }
        self.written = 0;
        Ok(())
    }
}

impl Write for RollingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            // A failed roll keeps writing to the current file rather than losing lines.
            if let Err(e) = self.roll() {
                eprintln!("rzk: cannot roll the log file {}: {e}", self.path.display());
            }
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_config::Origin;

    #[test]
    fn sizes_parse_as_logback_does() {
        assert_eq!(parse_file_size("256MB"), Some(256 << 20));
        assert_eq!(parse_file_size("10kb"), Some(10 << 10));
        assert_eq!(parse_file_size(" 2 GB"), Some(2 << 30));
        assert_eq!(parse_file_size("1234"), Some(1234));
        assert_eq!(parse_file_size("0"), None);
        assert_eq!(parse_file_size("lots"), None);
    }

    #[test]
    fn no_log_dir_means_stderr_only() {
        assert_eq!(FileLog::from_props(&SystemProps::new()), Ok(None));
    }

    #[test]
    fn properties_name_the_file_and_its_limits() {
        let mut p = SystemProps::new();
        p.set("zookeeper.log.dir", "/var/log/zk", Origin::CommandLine);
        p.set("zookeeper.log.maxfilesize", "1KB", Origin::CommandLine);
        p.set("zookeeper.log.maxbackupindex", "3", Origin::CommandLine);
        let f = FileLog::from_props(&p).expect("valid").expect("a file");
        assert_eq!(f.dir, PathBuf::from("/var/log/zk"));
        assert_eq!(f.file, LOG_FILE_DEFAULT);
        assert_eq!((f.max_bytes, f.backups), (1024, 3));
        p.set("zookeeper.log.maxbackupindex", "many", Origin::CommandLine);
        assert!(FileLog::from_props(&p).is_err());
    }

    #[test]
    fn the_file_rolls_over_by_size_keeping_the_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = FileLog {
            dir: dir.path().to_owned(),
            file: "zookeeper.log".into(),
            max_bytes: 100,
            backups: 2,
            threshold: "INFO".into(),
        };
        let mut f = RollingFile::open(&cfg).expect("open");
        for i in 0..10 {
            f.write_all(format!("line {i:02} {}\n", "x".repeat(30)).as_bytes()).expect("write");
        }
        f.flush().expect("flush");
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let cur = read(f.path.clone());
        let one = read(dir.path().join("zookeeper.log.1"));
        let two = read(dir.path().join("zookeeper.log.2"));
        assert!(!dir.path().join("zookeeper.log.3").exists(), "only two backups are kept");
        // 40-byte lines, 100-byte files: two lines per file; the newest lines in the current file.
        assert!(cur.contains("line 08") && cur.contains("line 09"), "{cur}");
        assert!(one.contains("line 06") && one.contains("line 07"), "{one}");
        assert!(two.contains("line 04") && two.contains("line 05"), "{two}");
        for s in [&cur, &one, &two] {
            assert!(s.len() <= 100, "a file passed the limit: {} bytes", s.len());
        }
    }
}
