//! How a tool fails, and how a failure becomes an exit code. The codes are the Java tools'
//! (`ExitCode`: 1 unexpected error, 2 invalid invocation), so wrapper scripts see no change.

use std::io::{self, Write};

/// `ExitCode.UNEXPECTED_ERROR`.
pub const EXIT_UNEXPECTED_ERROR: i32 = 1;
/// `ExitCode.INVALID_INVOCATION`.
pub const EXIT_INVALID_INVOCATION: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// A bad command line: the message, then the usage text, on stderr.
    #[error("{message}")]
    Usage { message: String, usage: &'static str, code: i32 },
    /// The tool cannot go on (a missing or damaged file): the message on stderr.
    #[error("{message}")]
    Failed { message: String, code: i32 },
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
}

impl ToolError {
    pub fn failed(code: i32, message: impl Into<String>) -> ToolError {
        ToolError::Failed { message: message.into(), code }
    }

    pub fn usage(message: impl Into<String>, usage: &'static str) -> ToolError {
        ToolError::Usage { message: message.into(), usage, code: EXIT_INVALID_INVOCATION }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            ToolError::Usage { code, .. } | ToolError::Failed { code, .. } => *code,
            ToolError::Output(_) => EXIT_UNEXPECTED_ERROR,
        }
    }
}

/// Runs a tool on a buffered stdout and turns its result into an exit code. A closed pipe
/// (`rzk txnlog dump log.1 | head`) ends the tool quietly with the code it would have had.
pub(crate) fn run_main(f: impl FnOnce(&mut dyn Write) -> Result<i32, ToolError>) -> i32 {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = f(&mut out);
    let flushed = out.flush();
    let broken_pipe = |e: &io::Error| e.kind() == io::ErrorKind::BrokenPipe;
    match result {
        Ok(code) => match flushed {
            Err(e) if !broken_pipe(&e) => {
                eprintln!("writing output: {e}");
                EXIT_UNEXPECTED_ERROR
            }
            _ => code,
        },
        Err(ToolError::Output(e)) if broken_pipe(&e) => 0,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    }
}

fn report(e: &ToolError) {
    match e {
        ToolError::Usage { message, usage, .. } if message.is_empty() => eprint!("{usage}"),
        ToolError::Usage { message, usage, .. } => eprint!("{message}\n\n{usage}"),
        other => eprintln!("{other}"),
    }
}
