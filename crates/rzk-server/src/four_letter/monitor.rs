//! `mntr` (`MonitorCommand`): `zk_<name>\t<value>` per metric of [`crate::mntr::collect`].

use rzk_node::Node;

use crate::core::Shell;
use crate::four_letter::HostFacts;
use crate::mntr::{self, Extras};

pub fn render(node: &Node, shell: &Shell, facts: &HostFacts) -> String {
    // The asking connection counts among ZooKeeper's alive connections.
    let extras = Extras { extra_connections: 1, open_fds: facts.open_fds, max_fds: facts.max_fds };
    mntr::collect(node, shell, extras).iter().map(|(k, v)| format!("zk_{k}\t{}\n", v.java())).collect()
}
