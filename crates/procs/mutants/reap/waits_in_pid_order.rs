    use procs::error::Error;
    use procs::proc::{PROC_ROOT, pids_in, read_stat_in};
    use procs::spawn::wait_for;
    use std::path::Path;

    // Find this process's children in /proc, then wait for each, smallest pid first.
    let me = std::process::id() as i32;
    let root = Path::new(PROC_ROOT);
    let mut children: Vec<i32> = pids_in(root)?
        .into_iter()
        .filter(|pid| read_stat_in(root, *pid).is_ok_and(|stat| stat.ppid == me))
        .collect();
    children.sort();
    let mut reaped = Vec::new();
    for pid in children {
        let pid = Pid::from_raw(pid);
        match wait_for(pid) {
            Ok(exit) => reaped.push((pid, exit)),
            Err(Error::Sys {
                errno: nix::errno::Errno::ECHILD,
                ..
            }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reaped)
