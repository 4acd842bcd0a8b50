//! Reading the kernel's own description of a process from `/proc`.
//!
//! Linux shows every process as a folder `/proc/<pid>`. Two files there tell most of
//! what this course needs: `stat` (one line: name, state, parent, page faults, CPU
//! ticks, ...) and `status` (one `Key: value` per line, with memory in kB). No library
//! hides them here: reading them by hand is the point, and every later lesson measures
//! memory through [`Status`].
//!
//! `stat` has one trap. Field 2 is the program name in parentheses, and that name may
//! itself contain spaces and parentheses: a program called `a) b (c` gives
//! `42 (a) b (c) S 1 ...`. Splitting the line on spaces goes wrong; the name ends at the
//! *last* `)` of the line, since nothing after it can contain one.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the kernel mounts the process filesystem.
pub const PROC_ROOT: &str = "/proc";

/// The fields of `/proc/<pid>/stat` this course uses (see `man 5 proc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub pid: i32,
    /// The program name, at most 15 bytes, exactly as the kernel keeps it.
    pub comm: String,
    /// R running, S sleeping, D disk wait, Z zombie, T stopped, I idle, ...
    pub state: char,
    pub ppid: i32,
    /// Page faults served without reading a disk (e.g. a copy-on-write copy).
    pub minflt: u64,
    pub majflt: u64,
    /// CPU time in clock ticks (usually 100 a second).
    pub utime: u64,
    pub stime: u64,
    pub num_threads: i64,
    /// Virtual size in bytes.
    pub vsize: u64,
    /// Resident set in pages.
    pub rss_pages: i64,
}

// ANCHOR: parse_stat_name
/// Parses the text of a `/proc/<pid>/stat` file; `path` only serves the error message.
pub fn parse_stat(text: &str, path: &Path) -> Result<Stat> {
    let bad = |offset: usize, reason: &str| Error::ProcParse {
        path: path.to_path_buf(),
        offset,
        reason: reason.to_string(),
    };
    let open = text
        .find('(')
        .ok_or_else(|| bad(0, "no `(` before the name"))?;
    // The name ends at the LAST `)`: the name itself may contain `)`.
    let close = text
        .rfind(')')
        .ok_or_else(|| bad(open, "no `)` after the name"))?;
    if close < open {
        return Err(bad(close, "`)` before `(`"));
    }
    let pid = text[..open]
        .trim()
        .parse()
        .map_err(|_| bad(0, "the pid is not a number"))?;
    let comm = text[open + 1..close].to_string();
    // ANCHOR_END: parse_stat_name

    // ANCHOR: parse_stat_fields
    // After the name, fields are separated by single spaces; remember where each starts
    // so that an error can point at the offending byte.
    let mut fields = Vec::new();
    let mut start = close + 1;
    for piece in text[close + 1..].split(' ') {
        if !piece.is_empty() {
            fields.push((start, piece.trim_end()));
        }
        start += piece.len() + 1;
    }
    // fields[0] is field 3 of the man page (state); field N is fields[N - 3].
    let field = |n: usize| {
        fields
            .get(n - 3)
            .copied()
            .ok_or_else(|| bad(text.len(), &format!("field {n} is missing")))
    };
    let number = |n: usize| -> Result<i64> {
        let (at, s) = field(n)?;
        s.parse()
            .map_err(|_| bad(at, &format!("field {n} ({s:?}) is not a number")))
    };
    let count = |n: usize| -> Result<u64> {
        let (at, s) = field(n)?;
        s.parse()
            .map_err(|_| bad(at, &format!("field {n} ({s:?}) is not a count")))
    };
    // ANCHOR_END: parse_stat_fields
    // ANCHOR: parse_stat_values
    let (state_at, state) = field(3)?;
    let mut chars = state.chars();
    let state = match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => c,
        _ => return Err(bad(state_at, "field 3 (state) is not one letter")),
    };
    let ppid = number(4)?;
    Ok(Stat {
        pid,
        comm,
        state,
        ppid: i32::try_from(ppid).map_err(|_| bad(state_at, "the parent pid is out of range"))?,
        minflt: count(10)?,
        majflt: count(12)?,
        utime: count(14)?,
        stime: count(15)?,
        num_threads: number(20)?,
        vsize: count(23)?,
        rss_pages: number(24)?,
    })
}
// ANCHOR_END: parse_stat_values

/// Reads `<proc_root>/<pid>/stat`. `proc_root` is `/proc` except in tests, which point it
/// at a folder of hand-written files.
pub fn read_stat_in(proc_root: &Path, pid: i32) -> Result<Stat> {
    let path = proc_root.join(pid.to_string()).join("stat");
    let text = read(&path)?;
    parse_stat(&text, &path)
}

/// Reads `/proc/<pid>/stat`.
pub fn read_stat(pid: i32) -> Result<Stat> {
    read_stat_in(Path::new(PROC_ROOT), pid)
}

/// Memory figures from `/proc/<pid>/status`, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// Resident set: pages in RAM now.
    pub vm_rss: u64,
    /// Peak resident set ("high water mark").
    pub vm_hwm: u64,
    /// Virtual size: everything mapped, touched or not.
    pub vm_size: u64,
    /// Memory taken by this process's page tables: what `fork` really copies.
    pub vm_pte: u64,
    pub threads: u64,
}

/// Parses the text of a `/proc/<pid>/status` file.
pub fn parse_status(text: &str, path: &Path) -> Result<Status> {
    let mut status = Status::default();
    parse_fields(
        text,
        path,
        &mut [
            ("VmRSS", &mut status.vm_rss),
            ("VmHWM", &mut status.vm_hwm),
            ("VmSize", &mut status.vm_size),
            ("VmPTE", &mut status.vm_pte),
            ("Threads", &mut status.threads),
        ],
    )?;
    Ok(status)
}

/// Reads `Key: value` lines (`status`, `meminfo`, `smaps_rollup` all look so) into the
/// slots named in `wanted`; other keys are skipped, a wanted key that is not a number is
/// an error with its place. A wanted key that is missing leaves its slot at 0.
fn parse_fields(text: &str, path: &Path, wanted: &mut [(&str, &mut u64)]) -> Result<()> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some((key, value)) = line.split_once(':') {
            if let Some((_, slot)) = wanted.iter_mut().find(|(k, _)| *k == key) {
                **slot = parse_kb(value).ok_or_else(|| Error::ProcParse {
                    path: path.to_path_buf(),
                    offset: offset + key.len() + 1,
                    reason: format!("{key} ({:?}) is not a number", value.trim()),
                })?;
            }
        }
        offset += line.len();
    }
    Ok(())
}

// ANCHOR: meminfo
/// The machine's memory as `/proc/meminfo` counts it, in bytes: what is free for new
/// work, and three kinds of memory the kernel keeps for itself, which no process's RSS
/// shows. Each process and each thread has a kernel stack; each process has page tables
/// (copied at fork); and the kernel's own objects (the task, its open files, its memory
/// map) sit in the slab.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meminfo {
    /// How much a new program could use without swapping (the kernel's estimate).
    pub mem_available: u64,
    pub kernel_stack: u64,
    pub page_tables: u64,
    /// Kernel objects that cannot be reclaimed under pressure (`SUnreclaim`).
    pub slab_unreclaimable: u64,
}

/// Parses the text of `/proc/meminfo`.
pub fn parse_meminfo(text: &str, path: &Path) -> Result<Meminfo> {
    let mut m = Meminfo::default();
    parse_fields(
        text,
        path,
        &mut [
            ("MemAvailable", &mut m.mem_available),
            ("KernelStack", &mut m.kernel_stack),
            ("PageTables", &mut m.page_tables),
            ("SUnreclaim", &mut m.slab_unreclaimable),
        ],
    )?;
    Ok(m)
}

/// Reads `/proc/meminfo`: machine-wide, so a delta over an experiment also counts what
/// other programs did meanwhile; experiments measure many units at once to drown that.
pub fn meminfo() -> Result<Meminfo> {
    let path = PathBuf::from(PROC_ROOT).join("meminfo");
    parse_meminfo(&read(&path)?, &path)
}
// ANCHOR_END: meminfo

// ANCHOR: rollup_uss
/// A process's memory summed over all its mappings (`/proc/<pid>/smaps_rollup`), in
/// bytes. After a fork most pages are shared with the parent, so RSS says little about
/// what one more process costs: *USS* (unique set: its private pages, what freeing the
/// process would give back) does, and *PSS* (each shared page divided among the
/// processes that map it) adds its fair share of the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rollup {
    pub rss: u64,
    pub pss: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
}

impl Rollup {
    /// Unique set size: the pages only this process maps.
    pub fn uss(&self) -> u64 {
        self.private_clean + self.private_dirty
    }
}
// ANCHOR_END: rollup_uss

/// Parses the text of a `/proc/<pid>/smaps_rollup` file.
pub fn parse_rollup(text: &str, path: &Path) -> Result<Rollup> {
    let mut r = Rollup::default();
    parse_fields(
        text,
        path,
        &mut [
            ("Rss", &mut r.rss),
            ("Pss", &mut r.pss),
            ("Private_Clean", &mut r.private_clean),
            ("Private_Dirty", &mut r.private_dirty),
        ],
    )?;
    Ok(r)
}

/// Reads `/proc/<pid>/smaps_rollup` (Linux 4.14 and later).
pub fn read_rollup(pid: i32) -> Result<Rollup> {
    let path = PathBuf::from(PROC_ROOT)
        .join(pid.to_string())
        .join("smaps_rollup");
    parse_rollup(&read(&path)?, &path)
}

/// "  1234 kB" -> 1,263,616 bytes; "  7" (a plain count) -> 7.
fn parse_kb(value: &str) -> Option<u64> {
    let value = value.trim();
    match value.strip_suffix(" kB") {
        Some(kb) => kb.trim().parse::<u64>().ok()?.checked_mul(1024),
        None => value.parse().ok(),
    }
}

/// Reads `/proc/<pid>/status`.
pub fn read_status(pid: i32) -> Result<Status> {
    let path = PathBuf::from(PROC_ROOT)
        .join(pid.to_string())
        .join("status");
    parse_status(&read(&path)?, &path)
}

/// Reads this process's own `/proc/self/status`.
pub fn self_status() -> Result<Status> {
    let path = PathBuf::from(PROC_ROOT).join("self/status");
    parse_status(&read(&path)?, &path)
}

// ANCHOR: smaps_mapping
/// What `/proc/<pid>/smaps` says about one mapping, in bytes. A page is *shared* when
/// more than one process maps it (after `fork`, until one of them writes it) and
/// *dirty* when it holds data that exists nowhere else (a touched anonymous page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mapping {
    /// The mapping's address range, `start..end`.
    pub start: usize,
    pub end: usize,
    /// Resident pages of this mapping.
    pub rss: u64,
    /// Written pages that another process maps too: shared, not copied.
    pub shared_dirty: u64,
    /// Written pages that only this process maps.
    pub private_dirty: u64,
}
// ANCHOR_END: smaps_mapping

// ANCHOR: smaps_values
/// Finds, in the text of a `smaps` file, the mapping that contains `addr`. The file is
/// one header line per mapping (`start-end perms offset dev inode path`, addresses in
/// hex) followed by `Key: value kB` lines about it.
pub fn parse_smaps(text: &str, addr: usize, path: &Path) -> Result<Option<Mapping>> {
    let mut found: Option<Mapping> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some(key) = first.strip_suffix(':') {
            // A `Key: value` line of the current mapping, if it is the one looked for.
            if let Some(mapping) = found.as_mut() {
                let slot = match key {
                    "Rss" => Some(&mut mapping.rss),
                    "Shared_Dirty" => Some(&mut mapping.shared_dirty),
                    "Private_Dirty" => Some(&mut mapping.private_dirty),
                    _ => None,
                };
                if let Some(slot) = slot {
                    let value = &line[line.find(':').map_or(0, |i| i + 1)..];
                    *slot = parse_kb(value).ok_or_else(|| Error::ProcParse {
                        path: path.to_path_buf(),
                        offset,
                        reason: format!("{key} ({:?}) is not a size", value.trim()),
                    })?;
                }
            }
            // ANCHOR_END: smaps_values
            // ANCHOR: smaps_header
        } else if let Some((start, end)) = first.split_once('-') {
            // A header: the mapping before it (if it was ours) is complete.
            if found.is_some() {
                break;
            }
            let bad = |reason: &str| Error::ProcParse {
                path: path.to_path_buf(),
                offset,
                reason: format!("{first:?}: {reason}"),
            };
            let start = usize::from_str_radix(start, 16).map_err(|_| bad("bad start"))?;
            let end = usize::from_str_radix(end, 16).map_err(|_| bad("bad end"))?;
            if (start..end).contains(&addr) {
                found = Some(Mapping {
                    start,
                    end,
                    ..Mapping::default()
                });
            }
        }
        offset += line.len();
    }
    Ok(found)
}

/// Reads this process's own `/proc/self/smaps` and returns the mapping containing `addr`.
pub fn self_mapping(addr: usize) -> Result<Mapping> {
    let path = PathBuf::from(PROC_ROOT).join("self/smaps");
    parse_smaps(&read(&path)?, addr, &path)?.ok_or_else(|| Error::ProcParse {
        path,
        offset: 0,
        reason: format!("no mapping contains address {addr:#x}"),
    })
}
// ANCHOR_END: smaps_header

/// Every pid listed under `proc_root` (the numeric folder names), in no set order.
pub fn pids_in(proc_root: &Path) -> Result<Vec<i32>> {
    let entries = std::fs::read_dir(proc_root).map_err(|source| Error::ProcRead {
        path: proc_root.to_path_buf(),
        source,
    })?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect())
}

fn read(path: &Path) -> Result<String> {
    // /proc files are small; a lossy read keeps odd bytes in a name from failing the parse.
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|source| Error::ProcRead {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_rollup_are_read_in_bytes_and_a_bad_number_is_named() {
        let meminfo = "MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n\
                       KernelStack:       12345 kB\nPageTables:        2048 kB\n\
                       SUnreclaim:       100000 kB\nHugePages_Total:       0\n";
        let m = parse_meminfo(meminfo, Path::new("meminfo")).unwrap();
        assert_eq!(m.mem_available, 20_000_000 * 1024);
        assert_eq!(m.kernel_stack, 12_345 * 1024);
        assert_eq!(m.page_tables, 2_048 * 1024);
        assert_eq!(m.slab_unreclaimable, 100_000 * 1024);
        let rollup = "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss: 900 kB\nPss: 300 kB\n\
                      Pss_Anon: 10 kB\nShared_Clean: 800 kB\nPrivate_Clean: 4 kB\n\
                      Private_Dirty: 96 kB\n";
        let r = parse_rollup(rollup, Path::new("rollup")).unwrap();
        assert_eq!(
            (r.rss, r.pss, r.uss()),
            (900 * 1024, 300 * 1024, 100 * 1024)
        );
        let err = parse_rollup("Rss: 9 kB\nPss: lots kB\n", Path::new("r")).unwrap_err();
        assert!(err.to_string().contains("Pss"), "{err}");
    }

    #[test]
    fn this_process_has_a_rollup_and_the_machine_a_meminfo() {
        let me = read_rollup(std::process::id() as i32).unwrap();
        assert!(me.rss > 0 && me.pss > 0 && me.pss <= me.rss, "{me:?}");
        let m = meminfo().unwrap();
        assert!(m.mem_available > 0 && m.kernel_stack > 0, "{m:?}");
    }

    fn stat_line(comm: &str) -> String {
        format!(
            "42 ({comm}) S 7 42 42 0 -1 4194560 111 0 2 0 13 44 0 0 20 0 3 0 1000 \
             32686080 1812 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0\n"
        )
    }

    #[test]
    fn parses_a_plain_stat_line() {
        let s = parse_stat(&stat_line("bash"), Path::new("x")).unwrap();
        assert_eq!(
            (s.pid, s.comm.as_str(), s.state, s.ppid),
            (42, "bash", 'S', 7)
        );
        assert_eq!((s.minflt, s.majflt, s.utime, s.stime), (111, 2, 13, 44));
        assert_eq!((s.num_threads, s.vsize, s.rss_pages), (3, 32686080, 1812));
    }

    #[test]
    fn names_may_contain_spaces_and_parentheses() {
        for name in ["a b", "a) b (c", ")", "((", "x) S 9 (y"] {
            let s = parse_stat(&stat_line(name), Path::new("x")).unwrap();
            assert_eq!(s.comm, name);
            assert_eq!(s.ppid, 7, "name {name:?}");
        }
    }

    #[test]
    fn bad_lines_name_the_byte() {
        let p = Path::new("/proc/42/stat");
        for (text, want) in [
            ("", "no `(`"),
            ("42 (x", "no `)`"),
            ("x (a) S 1", "pid is not a number"),
            ("42 (a) S", "field 4 is missing"),
            ("42 (a) SS 1", "not one letter"),
        ] {
            let err = parse_stat(text, p).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(err.contains("/proc/42/stat at byte"), "{err}");
        }
        let err = parse_stat("42 (a) S one", p).unwrap_err().to_string();
        assert!(err.contains("at byte 9:"), "{err}");
    }

    #[test]
    fn parses_status_memory_in_bytes() {
        let text = "Name:\tx\nVmSize:\t  8 kB\nVmHWM:\t 3 kB\nVmRSS:\t  2 kB\nVmPTE:\t 1 kB\nThreads:\t4\n";
        let s = parse_status(text, Path::new("x")).unwrap();
        assert_eq!(
            s,
            Status {
                vm_rss: 2048,
                vm_hwm: 3072,
                vm_size: 8192,
                vm_pte: 1024,
                threads: 4
            }
        );
        let err = parse_status("VmRSS: lots kB\n", Path::new("st")).unwrap_err();
        assert!(err.to_string().contains("VmRSS"), "{err}");
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id() as i32;
        let s = read_stat(me).unwrap();
        assert_eq!(s.pid, me);
        assert!(s.num_threads >= 1);
        assert!(self_status().unwrap().vm_rss > 0);
        assert!(pids_in(Path::new(PROC_ROOT)).unwrap().contains(&me));
    }

    #[test]
    fn a_missing_process_is_a_read_error_naming_the_path() {
        let err = read_stat_in(Path::new("/nonexistent-proc"), 5).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent-proc/5/stat"),
            "{err}"
        );
    }

    const SMAPS: &str = "\
55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]
Size:                132 kB
Rss:                   8 kB
Shared_Dirty:          0 kB
Private_Dirty:         8 kB
VmFlags: rd wr mr mw me ac
7f0000000000-7f0010000000 rw-p 00000000 00:00 0 
Size:             262144 kB
Rss:              262144 kB
Shared_Clean:          0 kB
Shared_Dirty:     262140 kB
Private_Clean:         0 kB
Private_Dirty:         4 kB
VmFlags: rd wr mr mw me ac nh
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  16 kB
Shared_Dirty:          0 kB
Private_Dirty:        16 kB
";

    #[test]
    fn smaps_finds_the_mapping_that_contains_an_address() {
        let m = parse_smaps(SMAPS, 0x7f00_0000_1000, Path::new("x"))
            .unwrap()
            .unwrap();
        assert_eq!((m.start, m.end), (0x7f00_0000_0000, 0x7f00_1000_0000));
        assert_eq!(m.rss, 262_144 * 1024);
        assert_eq!(m.shared_dirty, 262_140 * 1024);
        assert_eq!(m.private_dirty, 4 * 1024);
        // The last mapping of the file, and an address no mapping contains.
        let stack = parse_smaps(SMAPS, 0x7ffd_0000_0000, Path::new("x"))
            .unwrap()
            .unwrap();
        assert_eq!(stack.private_dirty, 16 * 1024);
        assert_eq!(parse_smaps(SMAPS, 0x1000, Path::new("x")).unwrap(), None);
    }

    #[test]
    fn smaps_with_a_broken_size_is_an_error_with_its_place() {
        let broken = SMAPS.replace("262140 kB", "lots kB");
        let err = parse_smaps(&broken, 0x7f00_0000_0000, Path::new("x")).unwrap_err();
        assert!(err.to_string().contains("Shared_Dirty"), "{err}");
    }

    #[test]
    fn this_process_has_a_mapping_for_its_own_stack() {
        let local = 7u64;
        let m = self_mapping(std::ptr::addr_of!(local) as usize).unwrap();
        assert!(m.start < m.end && m.rss > 0, "{m:?}");
    }
}
