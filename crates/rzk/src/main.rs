//! `rzk`: the one binary. `rzk server [zoo.cfg] [-Dname=value ...]` runs a server (with no
//! config file: an embedded default, standalone on 127.0.0.1:2181 with data in ./data);
//! `rzk cli [-server host:port] [command]` is the zkCli-style shell; `rzk txnlog`, `rzk snapshot`
//! and `rzk purge` are the offline tools for a data directory.

use std::process::ExitCode;

mod allocator;
mod logging;
mod server_cmd;

const USAGE: &str = "\
rzk: Apache ZooKeeper, rebuilt in Rust

Usage:
  rzk server [zoo.cfg] [-Dname=value ...]   run a server (no file: embedded default config)
  rzk server --print-default-config         print the embedded default zoo.cfg
  rzk cli [-server host:port] [cmd args]    the zkCli-style shell
  rzk bench <workload> [--server h:p] [...]  load generator (create|set|get|mixed|watch|sessions|load)
  rzk txnlog dump|recover FILE [...]        dump or repair a transaction log (zkTxnLogToolkit)
  rzk snapshot dump|compare FILE [...]      dump or compare snapshots (zkSnapShotToolkit)
  rzk purge -n N --dataDir D [...]          delete old snapshots and logs (zkCleanup.sh)
  rzk version                               print the version
";

fn main() -> ExitCode {
    allocator::no_transparent_huge_pages();
    rzk_server::heap::set_allocator_trim(allocator::collect);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first().map(String::as_str) else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = args[1..].to_vec();
    let code = match cmd {
        "server" => server_cmd::run(rest),
        "cli" => match rzk_cli::run(rest) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{e:#}");
                1
            }
        },
        "bench" => rzk_bench::main(rest),
        "txnlog" => rzk_tools::txnlog_main(rest),
        "snapshot" => rzk_tools::snapshot_main(rest),
        "purge" => rzk_tools::purge_main(rest),
        "version" | "--version" | "-V" => {
            println!(
                "rzk {} (ZooKeeper {} compatible)",
                env!("CARGO_PKG_VERSION"),
                rzk_server::four_letter::ZOOKEEPER_COMPAT_VERSION
            );
            0
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            0
        }
        other => {
            eprintln!("rzk: unknown command {other:?}\n\n{USAGE}");
            2
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}
