//! Progress bars (indicatif) for long runs: reading a big log or snapshot, comparing two trees.
//! A bar is drawn on stderr only when stderr is a terminal and stdout is not; with the output on
//! the same terminal a bar would be drawn through it, and in pipes and tests nothing is drawn.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar, or nothing when it would not be seen.
pub struct Progress {
    bar: Option<ProgressBar>,
}

fn visible() -> bool {
    std::io::stderr().is_terminal() && !std::io::stdout().is_terminal()
}

impl Progress {
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    /// A bar over `total` bytes of `what` (a file name).
    pub fn bytes(total: u64, what: &str) -> Progress {
        if !visible() {
            return Progress::hidden();
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(what.to_owned());
        Progress { bar: Some(bar) }
    }

    /// A spinner for work of unknown length (decompressing a snapshot).
    pub fn spinner(what: &str) -> Progress {
        if !visible() {
            return Progress::hidden();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    pub fn set(&self, position: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
        }
    }

    /// Runs `f` with the bar lifted off the terminal (for prompts and warnings).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
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
