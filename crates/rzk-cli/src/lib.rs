//! rzk-cli: the zkCli-style shell behind `rzk cli`. Same arguments (`-server host:port`,
//! `-timeout ms`, `-r`, `-waitforconnection`, an optional command to run once), same commands
//! and options, and the same output, to the same streams, as Apache ZooKeeper's
//! `ZooKeeperMain` and `cli/*Command` classes, so scripts written for zkCli.sh keep working.
//!
//! On a terminal it is interactive (rustyline: history in `~/.rzk_cli_history`, tab completion
//! of commands and znode paths, zkCli's prompt). Otherwise it reads commands from standard
//! input, one per line, without a prompt, as zkCli does without JLine.
//!
//! Deliberate differences: dates print in UTC; a bad number where zkCli would die of an uncaught
//! NumberFormatException is reported and the shell goes on; a line of blanks is skipped (zkCli
//! would re-run the previous command); `reconfig` is not supported; `version` names rzk.

mod commands;
mod complete;
mod error;
mod events;
mod format;
mod options;
mod output;
mod parse;
mod shell;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

pub use error::CliError;
pub use options::{MainOptions, parse_main};
pub use output::Out;
pub use shell::Shell;

/// The interactive history file, in the home directory.
pub const HISTORY_FILE: &str = ".rzk_cli_history";
/// History lines kept.
pub const HISTORY_LINES_MAX: usize = 1000;
/// How long the runtime may take to stop after the last command.
const SHUTDOWN_WAIT: Duration = Duration::from_millis(500);

/// Where commands come from.
pub enum Input {
    /// The terminal, through rustyline.
    Terminal,
    /// Lines of a reader (a pipe, a file, a test script).
    Lines(Box<dyn BufRead + Send>),
}

/// `rzk cli ARGS`: runs the shell on the process's stdin/stdout/stderr; returns the exit code.
pub fn run(args: Vec<String>) -> anyhow::Result<i32> {
    let input = if std::io::stdin().is_terminal() {
        Input::Terminal
    } else {
        Input::Lines(Box::new(std::io::BufReader::new(std::io::stdin())))
    };
    run_with_io(args, input, Out::stdio())
}

/// The shell on the given input and output (what `run` does with stdio; tests pass buffers).
pub fn run_with_io(args: Vec<String>, input: Input, out: Out) -> anyhow::Result<i32> {
    // zkCli reports a bad option and carries on with the defaults.
    let opts = parse_main(&args).unwrap_or_else(|msg| {
        out.eprintln(&msg);
        MainOptions::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    out.println(&format!("Connecting to {}", opts.server));
    let mut shell = Shell::new(out.clone(), opts.clone());
    if let Err(e) = rt.block_on(shell.connect_to(&opts.server)) {
        out.eprintln(&e.message);
        rt.shutdown_timeout(SHUTDOWN_WAIT);
        return Ok(e.exit_code);
    }
    match opts.command {
        Some(words) => rt.block_on(shell.process_cmd(words)),
        None => {
            out.println("Welcome to ZooKeeper!");
            match input {
                Input::Terminal => {
                    out.println("JLine support is enabled");
                    interactive(&rt, &mut shell)?;
                }
                Input::Lines(reader) => {
                    out.println("JLine support is disabled");
                    for line in reader.lines() {
                        let Ok(line) = line else { break };
                        rt.block_on(shell.execute_line(&line));
                        if shell.quitting() {
                            break;
                        }
                    }
                }
            }
        }
    }
    let code = shell.exit_code();
    drop(shell);
    rt.shutdown_timeout(SHUTDOWN_WAIT);
    Ok(code)
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(HISTORY_FILE))
}

/// The rustyline loop: prompt, history, completion; ends on quit, Ctrl-D or Ctrl-C.
fn interactive(rt: &tokio::runtime::Runtime, shell: &mut Shell) -> anyhow::Result<()> {
    let config = Config::builder()
        .max_history_size(HISTORY_LINES_MAX)?
        .auto_add_history(true)
        .completion_type(CompletionType::List)
        .build();
    let mut rl: Editor<complete::ZkHelper, DefaultHistory> = Editor::with_config(config)?;
    let current = Arc::new(Mutex::new(shell.client().cloned()));
    rl.set_helper(Some(complete::ZkHelper { client: current.clone(), runtime: rt.handle().clone() }));
    let hist = history_path();
    if let Some(h) = &hist {
        // No history yet is fine.
        let _ = rl.load_history(h);
    }
    loop {
        match rl.readline(&shell.prompt()) {
            Ok(line) => {
                rt.block_on(shell.execute_line(&line));
                if let Ok(mut c) = current.lock() {
                    *c = shell.client().cloned();
                }
                if shell.quitting() {
                    break;
                }
            }
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => break,
            Err(e) => {
                shell.out.eprintln(&e.to_string());
                break;
            }
        }
    }
    if let Some(h) = &hist {
        let _ = rl.save_history(h);
    }
    Ok(())
}
