    use procs::proc::{pids_in, read_stat_in};
    use std::collections::BTreeMap;

    type Children = BTreeMap<i32, Vec<(i32, String)>>;

    fn draw(children: &Children, pid: i32, comm: &str, depth: usize, out: &mut String) {
        out.push_str(&format!("{:width$}{pid} ({comm})\n", "", width = depth * 2));
        for (kid, name) in children.get(&pid).into_iter().flatten() {
            draw(children, *kid, name, depth + 1, out);
        }
    }

    let root_stat = read_stat_in(proc_root, root)?;
    let mut children = Children::new();
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
    let mut out = String::new();
    draw(&children, root, &root_stat.comm, 0, &mut out);
    Ok(out)
