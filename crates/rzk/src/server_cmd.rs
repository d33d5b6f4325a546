//! `rzk server`: loads the configuration (the seeds' `QuorumPeerMain.initializeAndRun`: parse
//! zoo.cfg, then decide standalone or quorum), sets up logging (`logging`: after the
//! configuration, whose system properties name the log file), and runs until stopped.

use std::path::PathBuf;

use rzk_server::Settings;

pub fn run(args: Vec<String>) -> i32 {
    if args.iter().any(|a| a == "--print-default-config") {
        print!("{}", rzk_config::EMBEDDED_DEFAULT_CONFIG);
        return 0;
    }
    let (defines, files): (Vec<String>, Vec<String>) = args.into_iter().partition(|a| a.starts_with("-D"));
    if files.len() > 1 {
        eprintln!("usage: rzk server [zoo.cfg] [-Dname=value ...]");
        return 2;
    }
    let env: Vec<(String, String)> = std::env::vars().collect();
    let loaded = match files.first() {
        Some(f) => rzk_config::load(&PathBuf::from(f), env, &defines),
        None => rzk_config::load_embedded(env, &defines),
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rzk: invalid configuration: {e}");
            return 2;
        }
    };
    if let Err(e) = crate::logging::init(&loaded.config.system_props) {
        eprintln!("rzk: {e}");
        return 2;
    }
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let settings = match Settings::from_config(&loaded.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rzk: {e}");
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rzk: cannot start the runtime: {e}");
            return 1;
        }
    };
    rt.block_on(async move {
        let handle = match rzk_server::start(settings).await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!("cannot start: {e}");
                return 1;
            }
        };
        tokio::select! {
            r = wait_for_signal() => {
                if let Err(e) = r { tracing::warn!("signal handling: {e}"); }
                tracing::info!("shutting down");
                match handle.shutdown().await { Ok(()) => 0, Err(e) => { tracing::error!("{e}"); 1 } }
            }
        }
    })
}

async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}
