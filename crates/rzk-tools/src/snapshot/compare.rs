//! SnapshotComparer (`zkSnapshotComparer.sh -l A -r B -b BYTES -n NODES [-d] [-i]`): per depth,
//! the nodes found on one side only, or on both with a difference in subtree data size or
//! descendant count above the thresholds. Output as the Java tool prints it, timings included.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::time::Instant;

use super::view::SnapshotView;
use crate::error::ToolError;

/// The comparison's settings (`-b`, `-n`, `-d`, `-i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Thresholds {
    pub bytes: i64,
    pub nodes: i64,
    pub debug: bool,
    pub interactive: bool,
}

/// A node of `TreeInfo`: its label (full path, "" for the root) and subtree totals.
struct TreeNode {
    label: String,
    descendant_size: i64,
    descendant_count: i64,
}

/// `TreeInfo`: nodes by depth (index 0 is the root) and by label.
pub struct TreeInfo {
    nodes: Vec<TreeNode>,
    at_depth: Vec<Vec<usize>>,
    by_label: HashMap<String, usize>,
    /// Children (indexes) of each node.
    children: Vec<Vec<usize>>,
}

impl TreeInfo {
    pub fn build(view: &SnapshotView) -> TreeInfo {
        let mut t = TreeInfo {
            nodes: Vec::new(),
            at_depth: Vec::new(),
            by_label: HashMap::new(),
            children: Vec::new(),
        };
        // Post-order without recursion: (label, depth, parent, children visited?).
        let mut stack: Vec<(String, usize, Option<usize>, bool)> = vec![(String::new(), 1, None, false)];
        let mut pending: Vec<Vec<usize>> = Vec::new();
        let mut slots: Vec<usize> = Vec::new();
        while let Some((label, depth, parent, visited)) = stack.pop() {
            let Some(n) = view.node(&label) else { continue };
            if !visited {
                stack.push((label.clone(), depth, parent, true));
                pending.push(Vec::new());
                slots.push(pending.len() - 1);
                let me = pending.len() - 1;
                for c in n.children.iter().collect::<Vec<_>>().into_iter().rev() {
                    stack.push((format!("{label}/{c}"), depth + 1, Some(me), false));
                }
                continue;
            }
            let slot = slots.pop().unwrap_or_default();
            let kids = std::mem::take(&mut pending[slot]);
            let size = n.data_len() as i64;
            let (mut dsize, mut dcount) = (size, kids.len() as i64);
            for &k in &kids {
                dsize += t.nodes[k].descendant_size;
                dcount += t.nodes[k].descendant_count;
            }
            let idx = t.nodes.len();
            t.nodes.push(TreeNode { label: label.clone(), descendant_size: dsize, descendant_count: dcount });
            t.children.push(kids);
            while t.at_depth.len() < depth {
                t.at_depth.push(Vec::new());
            }
            t.at_depth[depth - 1].push(idx);
            t.by_label.insert(label, idx);
            if let Some(p) = parent {
                pending[p].push(idx);
            }
        }
        t
    }

    fn root_size(&self) -> i64 {
        self.by_label.get("").map_or(0, |&i| self.nodes[i].descendant_size)
    }

    /// `TreeInfo.toString()`.
    pub fn summary(&self) -> String {
        let mut s = format!("Node count: {}\n", self.nodes.len());
        s.push_str(&format!("Total size: {}\n", self.root_size()));
        s.push_str(&format!("Max depth: {}\n", self.at_depth.len()));
        for (i, d) in self.at_depth.iter().enumerate() {
            s.push_str(&format!("Count of nodes at depth {i}: {}\n", d.len()));
        }
        s
    }
}

/// Java's `String.compareTo`: by UTF-16 code unit.
fn java_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn print_one_side(out: &mut dyn Write, n: &TreeNode, side: &str, th: &Thresholds) -> std::io::Result<()> {
    if n.descendant_size > th.bytes || n.descendant_count > th.nodes {
        writeln!(
            out,
            "Node {} found only in {side} tree. Descendant size: {}. Descendant count: {}",
            n.label, n.descendant_size, n.descendant_count
        )
    } else if th.debug || th.interactive {
        writeln!(out, "Filtered {side} node {} of size {}", n.label, n.descendant_size)
    } else {
        Ok(())
    }
}

fn print_both(out: &mut dyn Write, l: &TreeNode, r: &TreeNode, th: &Thresholds) -> std::io::Result<()> {
    let (dsize, dcount) = (r.descendant_size - l.descendant_size, r.descendant_count - l.descendant_count);
    if dsize.abs() > th.bytes || dcount.abs() > th.nodes {
        writeln!(out, "Node {} found in both trees. Delta: {dsize} bytes, {dcount} descendants", l.label)
    } else if th.debug || th.interactive {
        writeln!(
            out,
            "Filtered node {} of left size {}, right size {}",
            l.label, l.descendant_size, r.descendant_size
        )
    } else {
        Ok(())
    }
}

fn sorted<'a>((t, list): (&'a TreeInfo, &[usize])) -> Vec<&'a TreeNode> {
    let mut v: Vec<usize> = list.to_vec();
    v.sort_by(|a, b| java_cmp(&t.nodes[*a].label, &t.nodes[*b].label));
    v.into_iter().map(|i| &t.nodes[i]).collect()
}

/// `compareNodes`: a merge of the two lists sorted by label.
fn compare_nodes(
    out: &mut dyn Write,
    left: (&TreeInfo, &[usize]),
    right: (&TreeInfo, &[usize]),
    th: &Thresholds,
) -> std::io::Result<()> {
    let (l, r) = (sorted(left), sorted(right));
    let (mut i, mut j) = (0, 0);
    while i < l.len() || j < r.len() {
        match (l.get(i), r.get(j)) {
            (Some(a), Some(b)) => {
                if th.debug {
                    writeln!(out, "Comparing {} to {}", a.label, b.label)?;
                }
                match java_cmp(&a.label, &b.label) {
                    std::cmp::Ordering::Less => {
                        if th.debug {
                            writeln!(out, "left is less")?;
                        }
                        print_one_side(out, a, "left", th)?;
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        if th.debug {
                            writeln!(out, "right is less")?;
                        }
                        print_one_side(out, b, "right", th)?;
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        if th.debug {
                            writeln!(out, "same")?;
                        }
                        print_both(out, a, b, th)?;
                        i += 1;
                        j += 1;
                    }
                }
            }
            (Some(a), None) => {
                print_one_side(out, a, "left", th)?;
                i += 1;
            }
            (None, Some(b)) => {
                print_one_side(out, b, "right", th)?;
                j += 1;
            }
            (None, None) => break,
        }
    }
    Ok(())
}

fn compare_depth(
    out: &mut dyn Write,
    l: &TreeInfo,
    r: &TreeInfo,
    depth: usize,
    th: &Thresholds,
) -> std::io::Result<()> {
    let empty: Vec<usize> = Vec::new();
    let ll = l.at_depth.get(depth).unwrap_or(&empty);
    let rl = r.at_depth.get(depth).unwrap_or(&empty);
    compare_nodes(out, (l, ll), (r, rl), th)
}

fn threshold_info(out: &mut dyn Write, th: &Thresholds) -> std::io::Result<()> {
    writeln!(
        out,
        "Printing analysis for nodes difference larger than {} bytes or node count difference larger than {}.",
        th.bytes, th.nodes
    )
}

/// Loads one side as the Java tool does, printing its timings.
pub fn load(path: &std::path::Path, out: &mut dyn Write) -> Result<(SnapshotView, TreeInfo), ToolError> {
    let start = Instant::now();
    let view = SnapshotView::open(path).map_err(|e| ToolError::failed(1, e.to_string()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    writeln!(out, "Deserialized snapshot in {name} in {:.6} seconds", start.elapsed().as_secs_f64())?;
    let start = Instant::now();
    let info = TreeInfo::build(&view);
    writeln!(out, "Processed data tree in {:.6} seconds", start.elapsed().as_secs_f64())?;
    Ok((view, info))
}

/// `compareTrees`, batch or interactive.
pub fn compare_trees(
    out: &mut dyn Write,
    input: &mut dyn BufRead,
    l: &TreeInfo,
    r: &TreeInfo,
    th: &Thresholds,
) -> Result<(), ToolError> {
    let max_depth = l.at_depth.len().max(r.at_depth.len());
    if !th.interactive {
        threshold_info(out, th)?;
        for depth in 0..max_depth {
            writeln!(out, "Analysis for depth {depth}")?;
            compare_depth(out, l, r, depth, th)?;
        }
    } else {
        let mut depth = 0;
        while depth < max_depth {
            writeln!(out, "Current depth is {depth}")?;
            writeln!(
                out,
                "- Press enter to move to print current depth layer;\n- Type a number to jump to and print all nodes at a given depth;\n- Enter an ABSOLUTE path to print the immediate subtree of a node. Path must start with '/'."
            )?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line).map_err(ToolError::Output)? == 0 {
                return Ok(());
            }
            let line = line.trim_end_matches(['\n', '\r']);
            threshold_info(out, th)?;
            if line.is_empty() {
                writeln!(out, "Analysis for depth {depth}")?;
                compare_depth(out, l, r, depth, th)?;
                depth += 1;
            } else if line.starts_with('/') {
                writeln!(out, "Analysis for node {line}")?;
                compare_subtree(out, l, r, line, th)?;
            } else {
                match crate::args::parse_java_int(line) {
                    Some(d) if d < 0 || d as usize >= max_depth => {
                        writeln!(out, "Depth must be in range [0, {}]", max_depth - 1)?;
                        continue;
                    }
                    Some(d) => {
                        depth = d as usize;
                        writeln!(out, "Analysis for depth {depth}")?;
                        compare_depth(out, l, r, depth, th)?;
                    }
                    None => writeln!(
                        out,
                        "Input {line} is not valid. Depth must be in range [0, {}]. Path must be an absolute path which starts with '/'.",
                        max_depth - 1
                    )?,
                }
            }
            writeln!(out)?;
        }
    }
    writeln!(out, "All layers compared.")?;
    Ok(())
}

fn compare_subtree(
    out: &mut dyn Write,
    l: &TreeInfo,
    r: &TreeInfo,
    path: &str,
    th: &Thresholds,
) -> std::io::Result<()> {
    let (lr, rr) = (l.by_label.get(path), r.by_label.get(path));
    if lr.is_none() && rr.is_none() {
        return writeln!(out, "Path {path} is neither found in left tree nor right tree.");
    }
    let empty: Vec<usize> = Vec::new();
    let ll = lr.map_or(&empty, |&i| &l.children[i]);
    let rl = rr.map_or(&empty, |&i| &r.children[i]);
    compare_nodes(out, (l, ll), (r, rl), th)
}
