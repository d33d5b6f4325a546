//! The shell (`ZooKeeperMain`): the current client and server, the history, `printwatches`,
//! the exit code, and one line's processing: split, record in the history, handle the shell's
//! own commands (connect, history, redo, printwatches, quit), then, if the session is alive, run
//! a CLI command; a failure prints its message on stderr and sets the exit code.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rzk_client::{Client, States};
use tokio::task::JoinHandle;

use crate::commands::{self, Ctx};
use crate::error::{CliError, EXIT_COMMAND_NOT_FOUND};
use crate::events::spawn_printer;
use crate::options::MainOptions;
use crate::output::Out;
use crate::parse::split_line;

/// `ExitCode.EXECUTION_FINISHED`.
pub const EXIT_OK: i32 = 0;
/// How long quitting waits for the Closed event to be printed.
const CLOSED_EVENT_WAIT: Duration = Duration::from_secs(2);
/// `history` shows the last this-many commands before itself.
const HISTORY_SHOWN: i32 = 10;

pub struct Shell {
    pub out: Out,
    opts: MainOptions,
    client: Option<Client>,
    host: String,
    history: BTreeMap<i32, String>,
    command_count: i32,
    print_watches: Arc<AtomicBool>,
    exit_code: i32,
    printer: Option<JoinHandle<()>>,
    quit: bool,
}

impl Shell {
    pub fn new(out: Out, opts: MainOptions) -> Shell {
        Shell {
            out,
            opts,
            client: None,
            host: String::new(),
            history: BTreeMap::new(),
            command_count: 0,
            print_watches: Arc::new(AtomicBool::new(true)),
            exit_code: EXIT_OK,
            printer: None,
            quit: false,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// Whether `quit` was run.
    pub fn quitting(&self) -> bool {
        self.quit
    }

    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// `[zk: host:port(CONNECTED) 3] `.
    pub fn prompt(&self) -> String {
        let state = self.client.as_ref().map_or(States::Closed, Client::state);
        format!("[zk: {}({}) {}] ", self.host, state, self.command_count)
    }

    /// `connectToZK`: closes a live session, starts a new one (without waiting for it, unless
    /// -waitforconnection was given).
    pub async fn connect_to(&mut self, host: &str) -> Result<(), CliError> {
        if let Some(c) = self.client.take()
            && c.state().is_alive()
        {
            let _ = c.close().await;
            self.wait_printer().await;
        }
        self.host = host.to_owned();
        let timeout_ms: u64 =
            self.opts.timeout_ms.parse().map_err(|_| CliError::number_format(&self.opts.timeout_ms))?;
        let timeout = Duration::from_millis(timeout_ms);
        let client = Client::builder(host, timeout)
            .read_only(self.opts.read_only)
            .start()
            .map_err(|e| CliError::new(e.to_string()))?;
        self.printer = Some(spawn_printer(&client, self.out.clone(), self.print_watches.clone()));
        self.client = Some(client.clone());
        if self.opts.wait_for_connection && client.wait_for(|s| s.is_connected(), timeout).await.is_none() {
            let _ = client.close().await;
            return Err(CliError::new(
                "java.io.IOException: org.apache.zookeeper.KeeperException$ConnectionLossException: \
                 KeeperErrorCode = ConnectionLoss",
            ));
        }
        Ok(())
    }

    /// Waits (briefly) for the event printer to finish, so a Closed event is printed.
    async fn wait_printer(&mut self) {
        if let Some(p) = self.printer.take() {
            let _ = tokio::time::timeout(CLOSED_EVENT_WAIT, p).await;
        }
    }

    /// `executeLine`: runs one line of input (blank lines are skipped).
    pub async fn execute_line(&mut self, line: &str) {
        let words = split_line(line);
        // A line of spaces is skipped too (Java would re-run the previous command).
        if words.is_empty() {
            return;
        }
        self.history.insert(self.command_count, line.to_owned());
        self.process_cmd(words).await;
        self.command_count += 1;
    }

    /// `processCmd`: runs the words and records the exit code.
    pub async fn process_cmd(&mut self, words: Vec<String>) {
        let res = Box::pin(self.process_zk_cmd(words)).await;
        // Java exits inside `quit`, with the previous command's exit code.
        if self.quit {
            return;
        }
        match res {
            Ok(()) => self.exit_code = EXIT_OK,
            Err(e) => {
                self.exit_code = e.exit_code;
                self.out.eprintln(&e.message);
            }
        }
    }

    async fn process_zk_cmd(&mut self, words: Vec<String>) -> Result<(), CliError> {
        let cmd = words[0].clone();
        if !commands::is_command(&cmd) {
            commands::print_usage(&self.out);
            return Err(CliError {
                message: format!("Command not found: Command not found {cmd}"),
                exit_code: EXIT_COMMAND_NOT_FOUND,
            });
        }
        match cmd.as_str() {
            "quit" => {
                if let Some(c) = &self.client {
                    let _ = c.close().await;
                }
                self.wait_printer().await;
                self.quit = true;
                return Ok(());
            }
            "redo" if words.len() >= 2 => return self.redo(&words[1]).await,
            "history" => self.print_history(),
            "printwatches" => match words.get(1) {
                None => {
                    let on = if self.print_watches.load(Ordering::SeqCst) { "on" } else { "off" };
                    self.out.println(&format!("printwatches is {on}"));
                }
                Some(v) => self.print_watches.store(v == "on", Ordering::SeqCst),
            },
            "connect" => {
                let host = words.get(1).cloned().unwrap_or_else(|| self.host.clone());
                self.connect_to(&host).await?;
            }
            _ => {}
        }
        // Everything below needs a live session (the shell's own commands fall through here too).
        let Some(zk) = self.client.clone().filter(|c| c.state().is_alive()) else {
            self.out.println("Not connected");
            return Ok(());
        };
        let ctx = Ctx { zk: &zk, out: &self.out };
        commands::exec(&ctx, &cmd, &words).await.unwrap_or(Ok(()))
    }

    fn print_history(&self) {
        for i in (self.command_count - HISTORY_SHOWN).max(0)..=self.command_count {
            let line = self.history.get(&i).map_or("null", String::as_str);
            self.out.println(&format!("{i} - {line}"));
        }
    }

    /// `redo n`: runs history entry n again (it replaces the `redo` in the history).
    async fn redo(&mut self, arg: &str) -> Result<(), CliError> {
        let i = java_integer_decode(arg).ok_or_else(|| CliError::number_format(arg))?;
        if self.command_count <= i || i < 0 {
            return Err(CliError::new("Command index out of range"));
        }
        let line = self.history.get(&i).cloned().unwrap_or_default();
        let words = split_line(&line);
        if words.first().is_none_or(|w| w == "redo") {
            return Err(CliError::new("No redoing redos"));
        }
        self.history.insert(self.command_count, line);
        self.process_cmd(words).await;
        Ok(())
    }
}

/// `Integer.decode`: decimal, `0x`/`#` hex, leading-0 octal, with a sign.
fn java_integer_decode(s: &str) -> Option<i32> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, h)
    } else if let Some(h) = body.strip_prefix('#') {
        (16, h)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    i32::try_from(if neg { -v } else { v }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_decode() {
        assert_eq!(java_integer_decode("12"), Some(12));
        assert_eq!(java_integer_decode("0x1f"), Some(31));
        assert_eq!(java_integer_decode("010"), Some(8));
        assert_eq!(java_integer_decode("-3"), Some(-3));
        assert_eq!(java_integer_decode("abc"), None);
    }
}
