    use procs::proc::{pids_in, read_stat_in};
    use std::collections::{BTreeMap, VecDeque};

    let root_stat = read_stat_in(proc_root, root)?;
    let mut children: BTreeMap<i32, Vec<(i32, String)>> = BTreeMap::new();
    for pid in pids_in(proc_root)? {
        if let Ok(stat) = read_stat_in(proc_root, pid) {
            children
                .entry(stat.ppid)
                .or_default()
                .push((stat.pid, stat.comm));
        }
    }
    for list in children.values_mut() {
        list.sort();
    }
    // A queue: each level is drawn before the next one.
    let mut out = String::new();
    let mut queue = VecDeque::from([(root, root_stat.comm, 0usize)]);
    let mut seen = std::collections::HashSet::new();
    while let Some((pid, comm, depth)) = queue.pop_front() {
        if !seen.insert(pid) {
            continue;
        }
        out.push_str(&format!("{:width$}{pid} ({comm})\n", "", width = depth * 2));
        for (kid, name) in children.get(&pid).into_iter().flatten() {
            queue.push_back((*kid, name.clone(), depth + 1));
        }
    }
    Ok(out)
