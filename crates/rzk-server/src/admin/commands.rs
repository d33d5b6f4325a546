//! The admin commands by name (`Commands.registerCommand` in ZooKeeper 3.8, plus 3.9's `snapshot`
//! and `restore`): each command's primary name, its aliases, whether it needs a running server
//! (`CommandBase.serverRequired`), how it is called, and the `/commands` listing `JettyAdminServer`
//! prints.

/// Which command, by its primary name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmd {
    ConnectionStatReset,
    Configuration,
    Connections,
    Hash,
    Dirs,
    Dump,
    Environment,
    GetTraceMask,
    InitialConfiguration,
    IsReadOnly,
    LastSnapshot,
    Leader,
    Monitor,
    ObserverConnectionStatReset,
    Ruok,
    SetTraceMask,
    ServerStats,
    Stats,
    StatReset,
    Observers,
    SystemProperties,
    VotingView,
    Watches,
    WatchesByPath,
    WatchSummary,
    ZabState,
    Snapshot,
    Restore,
}

/// How a command is called (3.9's `GetCommand` / `PostCommand`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One command as ZooKeeper registers it.
#[derive(Debug)]
pub struct Command {
    pub cmd: Cmd,
    /// The primary name first, then the aliases.
    pub names: &'static [&'static str],
    /// False for the commands ZooKeeper runs without a running server.
    pub server_required: bool,
    pub method: Method,
}

impl Command {
    pub fn primary(&self) -> &'static str {
        self.names[0]
    }
}

const fn get(cmd: Cmd, names: &'static [&'static str], server_required: bool) -> Command {
    Command { cmd, names, server_required, method: Method::Get }
}

/// Every command, in `Commands`' registration order.
pub const COMMANDS: [Command; 28] = [
    get(Cmd::ConnectionStatReset, &["connection_stat_reset", "crst"], true),
    get(Cmd::Configuration, &["configuration", "conf", "config"], true),
    get(Cmd::Connections, &["connections", "cons"], true),
    get(Cmd::Hash, &["hash"], true),
    get(Cmd::Dirs, &["dirs"], true),
    get(Cmd::Dump, &["dump"], true),
    get(Cmd::Environment, &["environment", "env", "envi"], false),
    get(Cmd::GetTraceMask, &["get_trace_mask", "gtmk"], false),
    get(Cmd::InitialConfiguration, &["initial_configuration", "icfg"], true),
    get(Cmd::IsReadOnly, &["is_read_only", "isro"], true),
    get(Cmd::LastSnapshot, &["last_snapshot", "lsnp"], true),
    get(Cmd::Leader, &["leader", "lead"], true),
    get(Cmd::Monitor, &["monitor", "mntr"], false),
    get(Cmd::ObserverConnectionStatReset, &["observer_connection_stat_reset", "orst"], true),
    Command { cmd: Cmd::Restore, names: &["restore", "rest"], server_required: true, method: Method::Post },
    get(Cmd::Ruok, &["ruok"], true),
    get(Cmd::SetTraceMask, &["set_trace_mask", "stmk"], false),
    get(Cmd::Snapshot, &["snapshot", "snap"], true),
    get(Cmd::ServerStats, &["server_stats", "srvr"], true),
    get(Cmd::Stats, &["stats", "stat"], true),
    get(Cmd::StatReset, &["stat_reset", "srst"], true),
    get(Cmd::Observers, &["observers", "obsr"], true),
    get(Cmd::SystemProperties, &["system_properties", "sysp"], false),
    get(Cmd::VotingView, &["voting_view"], true),
    get(Cmd::Watches, &["watches", "wchc"], true),
    get(Cmd::WatchesByPath, &["watches_by_path", "wchp"], true),
    get(Cmd::WatchSummary, &["watch_summary", "wchs"], true),
    get(Cmd::ZabState, &["zabstate"], false),
];

/// The command with this name or alias (names are case-sensitive, as in ZooKeeper).
pub fn lookup(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.names.contains(&name))
}

/// `JettyAdminServer.commandLinks`: a link per primary name, sorted, each line followed by a
/// `<br/>` line (`PrintWriter.println`).
pub fn links(command_url: &str) -> String {
    let mut names: Vec<&str> = COMMANDS.iter().map(Command::primary).collect();
    names.sort_unstable();
    names.iter().map(|n| format!("<a href=\"{command_url}/{n}\">{n}</a>\n<br/>\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve_to_one_command() {
        for c in &COMMANDS {
            for n in c.names {
                assert_eq!(lookup(n).map(|f| f.cmd), Some(c.cmd), "{n}");
            }
        }
        let all: Vec<&str> = COMMANDS.iter().flat_map(|c| c.names.iter().copied()).collect();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(all.len(), unique.len(), "a name is registered twice");
        assert!(lookup("Ruok").is_none());
    }

    #[test]
    fn the_listing_is_sorted_links() {
        let l = links("/commands");
        assert!(l.starts_with(
            "<a href=\"/commands/configuration\">configuration</a>\n<br/>\n\
             <a href=\"/commands/connection_stat_reset\">connection_stat_reset</a>\n<br/>\n"
        ));
        assert!(l.ends_with("<a href=\"/commands/zabstate\">zabstate</a>\n<br/>\n"));
        assert_eq!(l.matches("<br/>").count(), COMMANDS.len());
    }
}
