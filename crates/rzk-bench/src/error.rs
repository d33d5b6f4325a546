//! Why a bench could not run: its setup failed (no server, a parent node could not be made), or
//! the runtime could not start. Errors of single requests during a run are not failures: they are
//! counted in the report (`errors`, `first_error`).

/// A failed run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A setup call failed (`what` says which).
    #[error("{what}: {source}")]
    Client {
        what: String,
        #[source]
        source: rzk_client::Error,
    },
    #[error("starting the runtime: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("latency histogram: {0}")]
    Histogram(String),
    #[error("{0}")]
    Failed(String),
}

impl BenchError {
    /// A setup failure of `what`.
    pub fn client(what: impl Into<String>, source: rzk_client::Error) -> BenchError {
        BenchError::Client { what: what.into(), source }
    }
}
