//! The shell's own command line, as `ZooKeeperMain.MyCommandOptions.parseOptions` reads it:
//! `-server host:port` (default localhost:2181), `-timeout ms` (default 30000), `-r`,
//! `-waitforconnection`, `-client-configuration file` (accepted, ignored), then an optional
//! command with its arguments (run once, then exit).

/// The parsed options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainOptions {
    pub server: String,
    pub timeout_ms: String,
    pub read_only: bool,
    pub wait_for_connection: bool,
    /// A command to run instead of the interactive loop (its words, name first).
    pub command: Option<Vec<String>>,
}

impl Default for MainOptions {
    fn default() -> MainOptions {
        MainOptions {
            server: "localhost:2181".into(),
            timeout_ms: "30000".into(),
            read_only: false,
            wait_for_connection: false,
            command: None,
        }
    }
}

/// Parses the arguments (without the program name). Errors read as zkCli's.
pub fn parse_main(args: &[String]) -> Result<MainOptions, String> {
    let mut o = MainOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value =
            |name: &str| it.next().cloned().ok_or(format!("Error: no argument found for option {name}"));
        match a.as_str() {
            "-server" => o.server = value(a)?,
            "-timeout" => o.timeout_ms = value(a)?,
            "-client-configuration" => drop(value(a)?),
            "-r" => o.read_only = true,
            "-waitforconnection" => o.wait_for_connection = true,
            // Other dashed words are ignored, as in Java.
            s if s.starts_with('-') => {}
            _ => {
                let mut cmd = vec![a.clone()];
                cmd.extend(it.cloned());
                o.command = Some(cmd);
                break;
            }
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_like_zookeeper_main() {
        let o = parse_main(&a("-server h:1 -timeout 5000 -r ls -s /")).unwrap();
        assert_eq!(o.server, "h:1");
        assert_eq!(o.timeout_ms, "5000");
        assert!(o.read_only);
        assert_eq!(o.command, Some(a("ls -s /")));
        assert_eq!(parse_main(&[]).unwrap(), MainOptions::default());
        assert_eq!(parse_main(&a("-server")).unwrap_err(), "Error: no argument found for option -server");
    }
}
