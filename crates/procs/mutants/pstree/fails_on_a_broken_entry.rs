    use procs::proc::{pids_in, read_stat_in};
    use std::collections::BTreeMap;

    let root_stat = read_stat_in(proc_root, root)?;
    let mut children: BTreeMap<i32, Vec<(i32, String)>> = BTreeMap::new();
    for pid in pids_in(proc_root)? {
        let stat = read_stat_in(proc_root, pid)?;
        children
            .entry(stat.ppid)
            .or_default()
            .push((stat.pid, stat.comm));
    }
    for list in children.values_mut() {
        list.sort();
    }
    let mut out = String::new();
    // An explicit stack instead of recursion: a deep (or cyclic, in a bad fixture) tree
    // cannot overflow it, and `seen` stops cycles.
    let mut stack = vec![(root, root_stat.comm, 0usize)];
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
