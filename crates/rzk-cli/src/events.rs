//! Printing watch events as zkCli's `MyWatcher` does: `WATCHER::` then the event, each after a
//! blank line, while `printwatches` is on. One task per client; it ends when the client's event
//! stream closes (after Closed, Expired or AuthFailed).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rzk_client::{Client, RecvError};
use tokio::task::JoinHandle;

use crate::output::Out;

/// Spawns the printer of `client`'s events.
pub fn spawn_printer(client: &Client, out: Out, print_watches: Arc<AtomicBool>) -> JoinHandle<()> {
    let mut rx = client.watches();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if print_watches.load(Ordering::SeqCst) {
                        out.print(&format!("\nWATCHER::\n\n{e}\n"));
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
    })
}
