//! A progress bar on stderr while a run measures, drawn only when stderr is a terminal (never in
//! pipes, scripts or tests). The bench's results go to stdout, so the bar never mixes with them.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar, or nothing when it would not be seen.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar from 0 to `len` in `unit`s (ops, sessions, rounds), titled `what`.
    pub fn new(what: &str, len: u64, unit: &str) -> Progress {
        Progress::with_template(what, len, &format!("{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}}"))
    }

    /// A bar over `len_ms` milliseconds (positions are milliseconds; say the time in the message).
    pub fn timed(what: &str, len_ms: u64) -> Progress {
        Progress::with_template(what, len_ms, "{prefix} [{bar:30}] {msg}")
    }

    fn with_template(what: &str, len: u64, template: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(len);
        let style = ProgressStyle::with_template(template)
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(what.to_owned());
        Progress { bar: Some(bar) }
    }

    pub fn set(&self, position: u64, msg: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg());
            bar.set_position(position);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
