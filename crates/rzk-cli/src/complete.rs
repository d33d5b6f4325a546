//! Tab completion for the interactive shell, as `JLineZNodeCompleter`: a word starting with `/`
//! completes to the children of its parent (asked from the server), any other word to command
//! names.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use rzk_client::Client;
use tokio::runtime::Handle;

use crate::commands;

/// How long completion waits for the server's list of children.
const CHILDREN_TIMEOUT: Duration = Duration::from_secs(2);

/// The rustyline helper: the current client (it changes with `connect`) and the runtime to ask
/// it from.
pub struct ZkHelper {
    pub client: Arc<Mutex<Option<Client>>>,
    pub runtime: Handle,
}

impl ZkHelper {
    fn children(&self, dir: &str) -> Vec<String> {
        let client = self.client.lock().ok().and_then(|c| c.clone());
        let Some(zk) = client else { return Vec::new() };
        // The timer must be made inside the runtime: build it in the future block_on runs.
        let fut = async move { tokio::time::timeout(CHILDREN_TIMEOUT, zk.get_children(dir, false)).await };
        match self.runtime.block_on(fut) {
            Ok(Ok(c)) => c,
            _ => Vec::new(),
        }
    }
}

/// Where the completed word starts and its candidates, for the text before the cursor.
pub fn complete_line(buffer: &str, children: impl FnOnce(&str) -> Vec<String>) -> (usize, Vec<String>) {
    let token = if buffer.ends_with(' ') { "" } else { buffer.rsplit(' ').next().unwrap_or("") };
    if token.starts_with('/') {
        let idx = token.rfind('/').map_or(0, |i| i + 1);
        let prefix = &token[idx..];
        let dir = if idx == 1 { "/" } else { &token[..idx - 1] };
        let mut c: Vec<String> = children(dir).into_iter().filter(|c| c.starts_with(prefix)).collect();
        c.sort();
        let start = if c.is_empty() { buffer.len() } else { buffer.rfind('/').map_or(0, |i| i + 1) };
        return (start, c);
    }
    let c = commands::names().filter(|n| n.starts_with(token)).map(str::to_owned).collect();
    (buffer.rfind(' ').map_or(0, |i| i + 1), c)
}

impl Completer for ZkHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let buffer = line.get(..pos).unwrap_or(line);
        Ok(complete_line(buffer, |dir| self.children(dir)))
    }
}

impl Hinter for ZkHelper {
    type Hint = String;
}
impl Highlighter for ZkHelper {}
impl Validator for ZkHelper {}
impl Helper for ZkHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_commands_and_paths() {
        let (start, c) = complete_line("get", |_| Vec::new());
        assert_eq!(
            (start, c),
            (
                0,
                vec![
                    "get".to_owned(),
                    "getAcl".into(),
                    "getAllChildrenNumber".into(),
                    "getEphemerals".into()
                ]
            )
        );
        let kids = |d: &str| {
            assert_eq!(d, "/app");
            vec!["beta".to_owned(), "alpha".into(), "alps".into()]
        };
        let (start, c) = complete_line("ls /app/al", kids);
        assert_eq!((start, c), (8, vec!["alpha".to_owned(), "alps".into()]));
        let (_, c) = complete_line("ls /", |d| {
            assert_eq!(d, "/");
            vec!["zookeeper".to_owned()]
        });
        assert_eq!(c, ["zookeeper"]);
    }
}
