//! SnapshotFormatter's text (`zkSnapShotToolkit.sh [-d] FILE`): every znode depth first in
//! Java's child order with its stat (and its data in base64 with `-d`), the sessions with their
//! ephemeral counts, and the last zxid seen. As in the Java tool, the digest section is not read
//! (its "Target zxid digest" line never prints); a bad seal is reported on stderr only.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::view::{SnapNode, SnapshotView};
use crate::javafmt::{date_to_string, hex, hex016};

fn write_node(out: &mut dyn Write, name: &str, n: &SnapNode, with_data: bool) -> std::io::Result<()> {
    let s = &n.stat;
    writeln!(out, "----")?;
    writeln!(out, "{name}")?;
    writeln!(out, "  cZxid = {}", hex016(s.czxid))?;
    writeln!(out, "  ctime = {}", date_to_string(s.ctime))?;
    writeln!(out, "  mZxid = {}", hex016(s.mzxid))?;
    writeln!(out, "  mtime = {}", date_to_string(s.mtime))?;
    writeln!(out, "  pZxid = {}", hex016(s.pzxid))?;
    writeln!(out, "  cversion = {}", s.cversion)?;
    writeln!(out, "  dataVersion = {}", s.version)?;
    writeln!(out, "  aclVersion = {}", s.aversion)?;
    writeln!(out, "  ephemeralOwner = {}", hex016(s.ephemeral_owner))?;
    if with_data {
        let data = n.data.as_ref().map(|d| STANDARD.encode(d)).unwrap_or_default();
        writeln!(out, "  data = {data}")
    } else {
        writeln!(out, "  dataLength = {}", n.data_len())
    }
}

/// `printDetails`.
pub fn print_details(view: &SnapshotView, out: &mut dyn Write, with_data: bool) -> std::io::Result<()> {
    writeln!(out, "ZNode Details (count={}):", view.java_node_count())?;
    // Depth first, children in HashSet order; an explicit stack, as trees can be deep.
    let mut stack: Vec<String> = vec!["/".to_owned()];
    let mut last_zxid = i64::MIN;
    while let Some(path) = stack.pop() {
        let Some(n) = view.node(&path) else { continue };
        write_node(out, &path, n, with_data)?;
        last_zxid = last_zxid.max(n.stat.mzxid).max(n.stat.pzxid);
        let kids: Vec<String> = n.children.iter().map(|c| SnapshotView::child_path(&path, c)).collect();
        stack.extend(kids.into_iter().rev());
    }
    writeln!(out, "----")?;
    writeln!(out, "Session Details (sid, timeout, ephemeralCount):")?;
    for (id, timeout) in view.sessions_java_order() {
        writeln!(out, "{}, {timeout}, {}", hex016(id), view.ephemeral_count(id))?;
    }
    writeln!(out, "----")?;
    writeln!(out, "Last zxid: 0x{}", hex(view.name_zxid.max(last_zxid)))
}
