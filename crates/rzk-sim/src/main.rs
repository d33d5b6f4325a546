//! `rzk-sim --seed N [--trace]` replays one run; `rzk-sim --seeds K [--from S]` runs K seeds.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seed = None;
    let mut seeds = 100u64;
    let mut from = 0u64;
    let mut trace = false;
    let mut i = 0;
    while i < args.len() {
        let val = |i: usize| args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match args[i].as_str() {
            "--seed" => {
                seed = val(i);
                i += 1;
            }
            "--seeds" => {
                seeds = val(i).unwrap_or(seeds);
                i += 1;
            }
            "--from" => {
                from = val(i).unwrap_or(0);
                i += 1;
            }
            "--trace" => trace = true,
            "-h" | "--help" => {
                println!("usage: rzk-sim [--seed N [--trace]] [--seeds K] [--from S]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other}");
                return ExitCode::from(2);
            }
        }
        i += 1;
    }
    if trace {
        tracing_subscriber::fmt().with_env_filter("info").with_writer(std::io::stderr).init();
    }
    let list: Vec<u64> = match seed {
        Some(s) => vec![s],
        None => (from..from + seeds).collect(),
    };
    let mut failed = 0;
    for s in list {
        let mut w = rzk_sim::World::new(s, rzk_sim::Params::for_seed(s));
        w.trace = trace;
        let t = std::time::Instant::now();
        match w.run() {
            Ok(()) => println!(
                "seed {s}: ok ({} servers, {} leader epochs, {} acked writes ({} ephemeral, {} session \
                 closes), {} sessions ended, {} live at the end, {} reads, {:.2}s)",
                w.servers.len(),
                w.checker.epochs(),
                w.checker.acked_writes(),
                w.checker.acked_ephemerals_and_closes().0,
                w.checker.acked_ephemerals_and_closes().1,
                w.clients.ended().len(),
                w.clients.live().len(),
                w.checker.reads,
                t.elapsed().as_secs_f64()
            ),
            Err(e) => {
                failed += 1;
                println!("seed {s}: FAILED: {e}");
            }
        }
    }
    if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
