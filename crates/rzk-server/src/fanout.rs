//! A second thread for the socket writes of a large watch fan-out.
//!
//! The router (`route`) ends each batch of the core's output by flushing every outbox that got a
//! notification straight into its socket. One change can owe that to thousands of sessions, and
//! nearly all of a flush's time is the kernel's: the TCP send, the receiving socket's processing
//! run inline on loopback, and the wake-up of the reader. When a batch owes at least
//! [`FANOUT_SPLIT_OUTBOXES_MIN`] flushes, the core hands the second half to this thread and writes
//! the first half itself, so both CPUs send (10,000 watchers on 2 vCPUs: 135–144 ms → 89–92 ms,
//! `docs/bench-results/2026-11-23e/experiments.txt`).
//!
//! Which thread flushes an outbox does not change what its client sees: a flush writes the head
//! of the outbox's queue under its lock, so a notification still follows every frame queued before
//! it and precedes every frame queued after (`outbox`).

use std::sync::Arc;
use std::sync::mpsc::{self, Sender};

use crate::outbox::Outbox;

/// Flushes owed by one batch from which the second half goes to the fan-out thread. Below it
/// the hand-off (a wake-up of the other thread) costs about what it saves.
pub const FANOUT_SPLIT_OUTBOXES_MIN: usize = 64;

/// The fan-out thread, started on first use; none on a single CPU.
#[derive(Debug, Default)]
pub struct FanoutThread {
    state: State,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    NotStarted,
    Running(Sender<Vec<Arc<Outbox>>>),
    /// One CPU, or the thread could not be started: the core flushes everything.
    Off,
}

impl FanoutThread {
    /// Flushes `due`, sharing the work with the fan-out thread when there is enough of it.
    pub fn flush_all(&mut self, due: &mut Vec<Arc<Outbox>>) {
        if due.len() >= FANOUT_SPLIT_OUTBOXES_MIN
            && let Some(tx) = self.sender()
        {
            let second_half = due.split_off(due.len() / 2);
            if let Err(mpsc::SendError(back)) = tx.send(second_half) {
                // The thread is gone (it only ends when this sender is dropped): flush here.
                self.state = State::Off;
                due.extend(back);
            }
        }
        for o in due.drain(..) {
            o.flush();
        }
    }

    fn sender(&mut self) -> Option<&Sender<Vec<Arc<Outbox>>>> {
        if matches!(self.state, State::NotStarted) {
            self.state = start();
        }
        match &self.state {
            State::Running(tx) => Some(tx),
            _ => None,
        }
    }
}

fn start() -> State {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return State::Off;
    }
    let (tx, rx) = mpsc::channel::<Vec<Arc<Outbox>>>();
    let spawned = std::thread::Builder::new().name("rzk-fanout".into()).spawn(move || {
        // Ends when the router (the sender's owner) is dropped.
        while let Ok(outboxes) = rx.recv() {
            for o in outboxes {
                o.flush();
            }
        }
    });
    match spawned {
        Ok(_) => State::Running(tx),
        Err(e) => {
            tracing::warn!(error = %e, "could not start the fan-out thread; the core writes every notification");
            State::Off
        }
    }
}
