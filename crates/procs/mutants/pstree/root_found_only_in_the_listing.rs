    use procs::proc::{pids_in, read_stat_in};
    use std::collections::BTreeMap;

    let mut children: BTreeMap<i32, Vec<(i32, String)>> = BTreeMap::new();
    let mut names = BTreeMap::new();
    for pid in pids_in(proc_root)? {
        // A process can exit between the listing and the read: skip it.
        if let Ok(stat) = read_stat_in(proc_root, pid) {
            names.insert(stat.pid, stat.comm.clone());
            children
                .entry(stat.ppid)
                .or_default()
                .push((stat.pid, stat.comm));
        }
    }
    for list in children.values_mut() {
        list.sort();
    }
    let mut out = String::new();
    // The root is one of the listed processes; if it is not there, there is nothing to draw.
    let Some(root_comm) = names.get(&root).cloned() else {
        return Ok(out);
    };
    // An explicit stack instead of recursion: a deep (or cyclic, in a bad fixture) tree
    // cannot overflow it, and `seen` stops cycles.
    let mut stack = vec![(root, root_comm, 0usize)];
    let mut seen = std::collections::HashSet::new();
    while let Some((pid, comm, depth)) = stack.pop() {
        if !seen.insert(pid) {
            continue;
        }
        out.push_str(&format!("{:width$}{pid} ({comm})\n", "", width = depth * 2));
        if let Some(kids) = children.get(&pid) {
            for (kid, name) in kids.iter().rev() {
                stack.push((*kid, name.clone(), depth + 1));
            }
        }
    }
    Ok(out)
