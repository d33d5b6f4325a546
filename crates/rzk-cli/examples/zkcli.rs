//! The shell as a stand-alone program, for trying it by hand (`rzk cli` is the real entry).

fn main() -> anyhow::Result<()> {
    let code = rzk_cli::run(std::env::args().skip(1).collect())?;
    std::process::exit(code);
}
