//! The core's half of the admin server: answers an [`AdminMsg`] from the node and the shell
//! (`Commands.runCommand` after the HTTP side resolved the name). Runs in the core task, so it
//! reads and resets state without locks; what needs the disk was gathered before.

use rzk_node::Node;

use crate::admin::commands::Cmd;
use crate::admin::response::Response;
use crate::admin::{
    AdminFacts, AdminMsg, auth, info_view, readiness, restore, snapshot, stats_view, tree_view,
};
use crate::core::Shell;
use crate::log_thread::LogCmd;
use crate::snapshotter::Snapshotter;

/// What the core lends an admin message.
pub struct AdminCtx<'a> {
    pub node: &'a mut Node,
    pub shell: &'a mut Shell,
    pub snapshotter: &'a mut Snapshotter,
    pub waiters: &'a mut snapshot::Waiters,
    pub log_tx: &'a std::sync::mpsc::Sender<LogCmd>,
    pub elapsed_ms: i64,
}

pub fn handle(msg: AdminMsg, ctx: AdminCtx<'_>) {
    match msg {
        AdminMsg::Command { cmd, kwargs, facts, reply } => {
            let _ = reply.send(run(cmd, &kwargs, &facts, ctx.node, ctx.shell));
        }
        AdminMsg::Prometheus { process, reply } => {
            let _ = reply.send(crate::prometheus::render(ctx.node, ctx.shell, &process));
        }
        AdminMsg::Readiness { reply } => {
            let _ = reply.send(readiness::check(ctx.node, ctx.shell));
        }
        AdminMsg::Authorize { command, auth, remote_ip, reply } => {
            let _ = reply.send(auth::authorize(ctx.node, command, auth.as_deref(), &remote_ip));
        }
        AdminMsg::Snapshot { reply } => ctx.waiters.request(ctx.snapshotter, ctx.node.tree(), reply),
        AdminMsg::Restore { stream, reply } => {
            if restore::busy(ctx.node, ctx.snapshotter) {
                let _ = reply.send(Err(stream));
                return;
            }
            let swap = restore::Swap {
                node: ctx.node,
                shell: ctx.shell,
                snapshotter: ctx.snapshotter,
                log_tx: ctx.log_tx,
                elapsed_ms: ctx.elapsed_ms,
            };
            let _ = reply.send(Ok(restore::apply(swap, *stream)));
        }
    }
}

/// Runs a command (by its primary name) and returns its answer.
pub fn run(
    cmd: Cmd,
    kwargs: &[(String, String)],
    facts: &AdminFacts,
    node: &Node,
    shell: &mut Shell,
) -> Response {
    let name = crate::admin::commands::COMMANDS.iter().find(|c| c.cmd == cmd).map_or("", |c| c.primary());
    let mut r = Response::ok(name);
    let host = &facts.host;
    match cmd {
        Cmd::ConnectionStatReset => {
            for c in shell.conns.values_mut() {
                c.stats.reset();
            }
        }
        Cmd::Configuration => info_view::configuration(shell, host, &mut r),
        Cmd::Connections => stats_view::connections(shell, &mut r),
        Cmd::Hash => tree_view::hash(shell, &mut r),
        Cmd::Dirs => info_view::dirs(host, &mut r),
        Cmd::Dump => tree_view::dump(node, &mut r),
        Cmd::Environment => info_view::environment(host, &mut r),
        Cmd::GetTraceMask => r.put("tracemask", shell.trace_mask),
        Cmd::InitialConfiguration => info_view::initial_configuration(shell, &mut r),
        Cmd::LastSnapshot => info_view::last_snapshot(facts, &mut r),
        Cmd::Monitor => info_view::monitor(node, shell, host, &mut r),
        Cmd::ObserverConnectionStatReset | Cmd::Ruok => {}
        Cmd::SetTraceMask => set_trace_mask(kwargs, shell, &mut r),
        Cmd::ServerStats => stats_view::server_stats(node, shell, host, &mut r),
        Cmd::Stats => stats_view::stats(node, shell, host, &mut r),
        Cmd::StatReset => shell.stats.reset(&shell.shared),
        Cmd::SystemProperties => info_view::system_properties(shell.settings.admin.as_ref(), host, &mut r),
        Cmd::Watches => tree_view::watches(node, &mut r),
        Cmd::WatchesByPath => tree_view::watches_by_path(node, &mut r),
        Cmd::WatchSummary => tree_view::watch_summary(node, &mut r),
        Cmd::Leader | Cmd::Observers | Cmd::VotingView | Cmd::ZabState | Cmd::IsReadOnly => {
            info_view::standalone_quorum_view(cmd, &mut r)
        }
        // Answered by the HTTP side and the snapshot/restore messages.
        Cmd::Snapshot | Cmd::Restore => {}
    }
    r
}

/// `SetTraceMaskCommand`: `traceMask` as `Long.parseLong` reads it.
fn set_trace_mask(kwargs: &[(String, String)], shell: &mut Shell, r: &mut Response) {
    let Some((_, v)) = kwargs.iter().find(|(k, _)| k == "traceMask") else {
        r.put("error", "setTraceMask requires long traceMask argument");
        return;
    };
    match v.parse::<i64>() {
        Ok(mask) => {
            shell.trace_mask = mask;
            r.put("tracemask", mask);
        }
        Err(_) => r.put("error", format!("setTraceMask requires long traceMask argument, got {v}")),
    }
}
