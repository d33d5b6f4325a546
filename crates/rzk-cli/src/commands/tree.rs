//! The tree walks of `ZKUtil` that zkCli commands use: `visitSubTreeDFS` (ls -R, setAcl -R,
//! setquota's checks), `listSubTreeBFS` and the batched multi deletes of `deleteRecursive`
//! (deleteall). The same requests in the same order as Java, so both leave the same zxids.

use rzk_client::{Client, Error, Op, first_error, validate_path};

use crate::error::CliError;

/// `ZKUtil.visitSubTreeDFS`: the root (which must exist), then for each node its sorted
/// children, each level listed before descending into it. `visit` sees every path.
pub async fn visit_subtree_dfs(
    zk: &Client,
    root: &str,
    watch: bool,
    visit: &mut impl AsyncFnMut(String) -> Result<(), CliError>,
) -> Result<(), CliError> {
    validate_path(root, false).map_err(CliError::from)?;
    zk.get_data(root, watch).await?;
    visit(root.to_owned()).await?;
    let mut stack = vec![root.to_owned()];
    while let Some(node) = stack.pop() {
        let mut children = match zk.get_children(&node, watch).await {
            Ok(c) => c,
            // Deleted since it was listed: skipped, as Java does.
            Err(e) if e.code() == Some(rzk_client::ErrorCode::NoNode) => continue,
            Err(e) => return Err(e.into()),
        };
        children.sort();
        let paths: Vec<String> = children.iter().map(|c| child_path(&node, c)).collect();
        for p in &paths {
            visit(p.clone()).await?;
        }
        stack.extend(paths.into_iter().rev());
    }
    Ok(())
}

fn child_path(parent: &str, child: &str) -> String {
    if parent == "/" { format!("/{child}") } else { format!("{parent}/{child}") }
}

/// `ZKUtil.listSubTreeBFS`: the root and every descendant, breadth first.
pub async fn list_subtree_bfs(zk: &Client, root: &str) -> Result<Vec<String>, Error> {
    let mut tree = vec![root.to_owned()];
    let mut i = 0;
    while i < tree.len() {
        let node = tree[i].clone();
        for c in zk.get_children(&node, false).await? {
            tree.push(child_path(&node, &c));
        }
        i += 1;
    }
    Ok(tree)
}

/// `ZKUtil.deleteRecursive`: the subtree in multis of `batch` deletes, leaves first (a batch
/// size ≤ 0 makes one multi, as in Java); false if a batch failed (later ones are not sent).
pub async fn delete_recursive(zk: &Client, root: &str, batch: i32) -> Result<bool, Error> {
    validate_path(root, false)?;
    let tree = list_subtree_bfs(zk, root).await?;
    let ops: Vec<Op> = tree.iter().rev().map(|p| Op::delete(p, -1)).collect();
    let size = if batch <= 0 { ops.len().max(1) } else { batch as usize };
    for chunk in ops.chunks(size) {
        let ok = match zk.multi(chunk).await {
            Ok(results) => first_error(&results).is_none(),
            Err(_) => false,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}
