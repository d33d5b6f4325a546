//! Where the shell writes: stdout and stderr (or buffers, in tests), shared with the task that
//! prints watch events. zkCli prints command results, errors and its "Created ..." line to
//! different streams; `out` and `err` keep them apart the same way.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A shareable writer.
pub type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// The shell's two output streams.
#[derive(Clone)]
pub struct Out {
    out: Sink,
    err: Sink,
}

impl Out {
    pub fn new(out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Out {
        Out { out: Arc::new(Mutex::new(out)), err: Arc::new(Mutex::new(err)) }
    }

    /// The process's stdout and stderr.
    pub fn stdio() -> Out {
        Out::new(Box::new(std::io::stdout()), Box::new(std::io::stderr()))
    }

    /// Writes `s` to stdout as is (callers add the newline).
    pub fn print(&self, s: &str) {
        write_to(&self.out, s);
    }

    pub fn println(&self, s: &str) {
        write_to(&self.out, &format!("{s}\n"));
    }

    pub fn eprintln(&self, s: &str) {
        write_to(&self.err, &format!("{s}\n"));
    }

    /// `ZooKeeperMain.printMessage`: a blank line, then the message.
    pub fn print_message(&self, s: &str) {
        self.print(&format!("\n{s}\n"));
    }
}

fn write_to(sink: &Sink, s: &str) {
    // A poisoned lock only means another printer panicked; printing on is still right.
    let mut w = sink.lock().unwrap_or_else(|e| e.into_inner());
    // Nothing useful can be done if the terminal is gone.
    let _ = w.write_all(s.as_bytes());
    let _ = w.flush();
}
