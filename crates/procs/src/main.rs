//! The tour of lesson 1: `cargo run --release -p procs [-- --quick] [-- --json]`.
//!
//! Runs the lesson's experiments in order, prints what each one shows with the figures
//! measured on this machine, and checks the lesson's claims against them. Every number
//! printed here was measured in this run; the claims compare figures from this run.

use std::process::ExitCode;
use std::time::Duration;

use procs::claims;
use procs::cost::spawn_costs;
use procs::idle::{IdleProcesses, idle_processes};
use procs::limits::TaskLimits;
use procs::measure::{Stats, page_size};
use procs::memory::{
    Region, child_changes_a_copy, child_write_faults, fork_with_memory, rss_growth_on_touch,
    sharing_after_fork, time_copy, time_fork,
};
use procs::tour::{Inputs, Tour, TourArgs, fmt_bytes, fmt_value};
use procs::tree::ancestry;
use procs::zombie::{watch_a_zombie, zombies_of};

const ABOUT: &str = "Lesson 1 tour: the process tree, fork/exec/wait, what fork copies, \
                     and what starting a process costs, measured on this machine.";

const MIB: usize = 1 << 20;

/// Sizes and counts: the full tour takes a few seconds, `--quick` about one.
struct Plan {
    spawn_trials: usize,
    /// Waiting processes measured at once, in each of `WAITING_ROUNDS` rounds.
    waiting: usize,
    memory_sizes: [usize; 3],
    fork_trials: usize,
    cow_pages: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                spawn_trials: 60,
                waiting: 100,
                memory_sizes: [MIB, 64 * MIB, 256 * MIB],
                fork_trials: 8,
                cow_pages: 2_000,
            }
        } else {
            Plan {
                spawn_trials: 300,
                waiting: 200,
                memory_sizes: [MIB, 64 * MIB, 512 * MIB],
                fork_trials: 20,
                cow_pages: 10_000,
            }
        }
    }
}

/// Rounds of the waiting-processes experiment: its kernel figures are machine-wide, and
/// the rounds show how much the rest of the machine moved them.
const WAITING_ROUNDS: usize = 3;

fn main() -> ExitCode {
    let args = TourArgs::from_env(ABOUT);
    if args.falsify {
        return procs::tour::falsify("procs", claims::ALL, &args);
    }
    let plan = Plan::new(args.quick);
    let mut tour = Tour::start(
        "procs",
        "fork, exec, wait and what a process costs",
        args,
        8,
    );
    let me = std::process::id() as i32;

    process_tree(&mut tour, me);
    fork_copies(&mut tour);
    spawn_cost(&mut tour, &plan);
    waiting_processes(&mut tour, &plan);
    lazy_memory(&mut tour);
    fork_and_memory(&mut tour, &plan);
    copy_on_write(&mut tour, &plan);
    zombies(&mut tour, me);

    tour.finish(claims::ALL)
}

fn process_tree(tour: &mut Tour, me: i32) {
    let chain = tour.experiment(
        "tree",
        "The process tree",
        "Every process was forked by a parent. Following the parents from this tour \
         climbs to PID 1, the first process (in a container: the container's first).",
        |exp| {
            let chain = ancestry(me)?;
            if chain.last().is_some_and(|root| root.pid != 1) {
                exp.note(
                    "The chain ends below PID 1: this process was entered into a PID \
                     namespace from outside it (docker exec, nsenter), so its first \
                     ancestor's parent lives in another namespace and shows here as 0.",
                );
            }
            for (depth, stat) in chain.iter().enumerate() {
                exp.note(format!(
                    "{:indent$}{} ({}) state {}",
                    "",
                    stat.pid,
                    stat.comm,
                    stat.state,
                    indent = depth * 2
                ));
            }
            exp.figure("parents up to the root", (chain.len() - 1) as f64, "");
            Ok::<_, procs::Error>(chain)
        },
    );
    if let Some(chain) = chain {
        let (root, parent) = chain.last().map_or((0, -1), |s| (s.pid, s.ppid));
        tour.judge(
            &claims::TREE_ENDS_AT_ROOT,
            Inputs::new()
                .with("root pid", f64::from(root), "")
                .with("root's parent pid", f64::from(parent), "")
                .with("steps", (chain.len() - 1) as f64, ""),
        );
    }
}

/// The variable's value before fork, in the fork-copies experiment.
const BEFORE_FORK: u64 = 41;

fn fork_copies(tour: &mut Tour) {
    let seen = tour.experiment(
        "fork-copies",
        "fork copies the process",
        "After fork there are two processes with separate memory. The child adds 1 to a \
         variable and sends back what it sees; the parent's variable is unchanged.",
        |exp| {
            let (parent, child) = child_changes_a_copy(BEFORE_FORK)?;
            exp.figure("value in the parent after the child ran", parent as f64, "");
            exp.figure("value the child saw after adding 1", child as f64, "");
            Ok::<_, procs::Error>((parent, child))
        },
    );
    if let Some((parent, child)) = seen {
        tour.judge(
            &claims::FORK_COPIES,
            Inputs::new()
                .with("value before fork", BEFORE_FORK as f64, "")
                .with("value in the parent after the child ran", parent as f64, "")
                .with("value the child saw after adding 1", child as f64, ""),
        );
    }
}

fn spawn_cost(tour: &mut Tour, plan: &Plan) {
    let costs = tour.experiment(
        "spawn-cost",
        "What starting a process costs",
        "Three ways to start a process, each the median of repeated trials: \
         std::process::Command running /bin/true, fork+exec+wait by hand, and fork with \
         an immediate _exit (no new program). Their difference is the price of exec.",
        |exp| {
            let c = spawn_costs("true", plan.spawn_trials)?;
            for (name, cost) in [
                ("Command::status(/bin/true)", &c.command),
                ("fork + exec + wait (/bin/true)", &c.fork_exec),
                ("fork + _exit + wait", &c.fork_only),
            ] {
                let s = &cost.wall;
                exp.figure(name, s.median_us(), "µs");
                exp.figure(format!("{name}, CPU time"), cost.cpu * 1e6, "µs");
                exp.note(format!(
                    "{name}: median {} over {} blocks of trials, middle 80% {}..{}",
                    fmt_value(s.median_us(), "µs"),
                    s.trials,
                    fmt_value(s.p10 * 1e6, "µs"),
                    fmt_value(s.p90 * 1e6, "µs")
                ));
            }
            exp.note(
                "CPU time counts the work of parent and child (getrusage); wall time adds \
                 any wait for a free core, so on a busy machine only the wall time grows.",
            );
            exp.note(
                "Command is usually not dearer than fork+exec by hand: the standard library \
                 starts children with posix_spawn/vfork, which do not copy the page tables.",
            );
            let per_second = 1.0 / c.fork_exec.wall.median;
            exp.figure(
                "processes started per second, one at a time",
                per_second,
                "/s",
            );
            Ok::<_, procs::Error>(c)
        },
    );
    if let Some(c) = costs {
        tour.headline("fork+exec", c.fork_exec.wall.median_us(), "µs");
        tour.headline("fork alone", c.fork_only.wall.median_us(), "µs");
        // Decided on CPU time: the work exec adds, which a busy machine does not blur.
        let us = |rounds: &[f64]| rounds.iter().map(|s| s * 1e6).collect::<Vec<_>>();
        tour.judge(
            &claims::EXEC_COSTS,
            Inputs::new()
                .with_rounds("fork+exec+wait CPU", &us(&c.fork_exec.cpu_rounds), "µs")
                .with_rounds("fork+_exit+wait CPU", &us(&c.fork_only.cpu_rounds), "µs"),
        );
    }
}

// ANCHOR: waiting_processes
fn waiting_processes(tour: &mut Tour, plan: &Plan) {
    let n = plan.waiting;
    let rounds = tour.experiment(
        "waiting-processes",
        "What a waiting process costs",
        "A server that gives each download a process has, most of the time, processes \
         that wait. This forks children that block on a pipe, as a worker blocks on its \
         socket, and reads their memory while all of them wait: their own pages (USS, from \
         smaps_rollup), their share of the pages still shared with the parent (PSS), and \
         the kernel's memory for them, which no RSS shows (page tables, kernel stacks, \
         the kernel's objects in the slab). Then it releases and reaps them all.",
        |exp| {
            let rounds: Vec<IdleProcesses> = (0..WAITING_ROUNDS)
                .map(|_| idle_processes(n))
                .collect::<Result<_, _>>()?;
            let median = |f: fn(&IdleProcesses) -> f64| {
                procs::measure::Stats::median_of(rounds.iter().map(f).collect())
            };
            exp.note(format!(
                "Each figure per process: the median of {WAITING_ROUNDS} rounds of {n} \
                 waiting processes at once."
            ));
            exp.figure("RSS per waiting process", median(|r| r.rss), "bytes");
            exp.figure("USS per waiting process", median(|r| r.uss), "bytes");
            exp.figure("PSS per waiting process", median(|r| r.pss), "bytes");
            exp.figure(
                "page tables per waiting process",
                median(|r| r.page_tables),
                "bytes",
            );
            exp.figure(
                "kernel stack per waiting process",
                median(|r| r.kernel_stack),
                "bytes",
            );
            exp.figure(
                "kernel objects (slab) per waiting process",
                median(|r| r.slab),
                "bytes",
            );
            let cost = exp.figure(
                "memory per waiting process (USS + kernel)",
                median(IdleProcesses::per_process),
                "bytes",
            );
            // How many would fit: what memory allows, beside what the settings allow.
            let available = procs::proc::meminfo()?.mem_available as f64;
            exp.figure("memory available now", available, "bytes");
            let by_memory = exp.figure(
                "waiting processes that memory would hold",
                (available / cost).floor(),
                "",
            );
            let limits = TaskLimits::read();
            for (limit, name) in limits.named() {
                exp.figure(format!("processes {name} allows"), limit as f64, "");
            }
            match limits.lowest() {
                Some((limit, name)) if (limit as f64) < by_memory => exp.note(format!(
                    "Here {name} ({}) stops new processes before memory does: raise it, and \
                     memory is the next wall.",
                    fmt_value(limit as f64, "")
                )),
                _ => exp.note(
                    "Here memory runs out before any setting stops new processes.".to_string(),
                ),
            }
            exp.note(
                "A forked child shares its parent's pages until one of them writes: its RSS \
                 counts them whole, its USS only what it had to copy. A worker that runs a \
                 program of its own (exec) shares nothing with its parent and costs far more.",
            );
            Ok::<_, procs::Error>(rounds)
        },
    );
    if let Some(rounds) = rounds {
        let per = |f: fn(&IdleProcesses) -> f64| rounds.iter().map(f).collect::<Vec<_>>();
        let cost = procs::measure::Stats::from_samples(per(IdleProcesses::per_process));
        tour.headline(
            "memory per waiting process",
            cost.map_or(f64::NAN, |s| s.median),
            "bytes",
        );
        tour.judge(
            &claims::WAITING_PROCESS_RSS,
            Inputs::new()
                .with_rounds("RSS per process", &per(|r| r.rss), "bytes")
                .with_rounds("USS per process", &per(|r| r.uss), "bytes"),
        );
    }
}
// ANCHOR_END: waiting_processes

fn lazy_memory(tour: &mut Tour) {
    let size = 64 * MIB;
    let grown = tour.experiment(
        "lazy-memory",
        "Mapped is not resident",
        "Mapping 64 MiB costs no RAM; the kernel hands out a page only when it is first \
         touched. RSS (resident set, from /proc/self/status) counts touched pages.",
        |exp| {
            let before = procs::measure::rss_bytes()?;
            let (mapped, touched) = rss_growth_on_touch(size)?;
            exp.figure("RSS before mapping", before as f64, "bytes");
            exp.figure("RSS with 64 MiB mapped, untouched", mapped as f64, "bytes");
            exp.figure("RSS with 64 MiB touched", touched as f64, "bytes");
            Ok::<_, procs::Error>((before, mapped, touched))
        },
    );
    if let Some((before, mapped, touched)) = grown {
        let by_mapping = mapped.saturating_sub(before) as f64;
        let by_touching = touched.saturating_sub(mapped) as f64;
        tour.judge(
            &claims::LAZY_MEMORY,
            Inputs::new()
                .with("region", size as f64, "bytes")
                .with("added by mapping", by_mapping, "bytes")
                .with("added by touching", by_touching, "bytes"),
        );
    }
}

fn fork_and_memory(tour: &mut Tour, plan: &Plan) {
    let results = tour.experiment(
        "fork-memory",
        "Does fork copy all the memory?",
        "The parent touches more and more memory, then forks. fork copies the page \
         tables (8 bytes per page) and shares the pages copy-on-write, so its cost grows \
         with memory, but far slower than copying the memory would. The kernel's own \
         accounting (/proc/self/smaps) shows the pages shared with the child, not copied.",
        |exp| {
            let mut rows = Vec::new();
            for &bytes in &plan.memory_sizes {
                let m = fork_with_memory(bytes, plan.fork_trials)?;
                let label = fmt_bytes(bytes as f64);
                exp.figure(
                    format!("fork with {label} touched"),
                    m.fork.median_us(),
                    "µs",
                );
                exp.figure(
                    format!("page tables with {label} touched"),
                    m.page_tables as f64,
                    "bytes",
                );
                rows.push(m);
            }
            let largest = *plan.memory_sizes.last().unwrap_or(&MIB);
            let mut region = Region::new(largest)?;
            region.touch_all();
            // The copy and the fork it is compared with are measured in turns, over the
            // same region: a slow moment of a shared machine then falls on both sides
            // of the ratio, not on one.
            let (mut copies, mut forks) = (Vec::new(), Vec::new());
            for _ in 0..3 {
                copies.push(time_copy(&region, 1).median);
                forks.push(time_fork(plan.fork_trials, 1)?.median);
            }
            let no_figure = || procs::Error::Invalid {
                what: "copy and fork timings",
                reason: "no finite sample".to_string(),
            };
            let copy = Stats::from_samples(copies.clone()).ok_or_else(no_figure)?;
            let fork = Stats::from_samples(forks.clone()).ok_or_else(no_figure)?;
            let sharing = sharing_after_fork(&region)?;
            exp.figure(
                format!(
                    "written and private before fork ({})",
                    fmt_bytes(largest as f64)
                ),
                sharing.before.private_dirty as f64,
                "bytes",
            );
            exp.figure(
                "written and shared with the child, while it lives",
                sharing.during.shared_dirty as f64,
                "bytes",
            );
            exp.figure(
                "written and private, while the child lives",
                sharing.during.private_dirty as f64,
                "bytes",
            );
            exp.figure(
                format!(
                    "copying {} (what a real copy would cost)",
                    fmt_bytes(largest as f64)
                ),
                copy.median_us(),
                "µs",
            );
            exp.figure(
                format!(
                    "fork with {} touched, in turns with the copy",
                    fmt_bytes(largest as f64)
                ),
                fork.median_us(),
                "µs",
            );
            Ok::<_, procs::Error>((rows, (copies, forks), sharing))
        },
    );
    let Some((rows, (copies, forks), sharing)) = results else {
        return;
    };
    let (Some(small), Some(big)) = (rows.first(), rows.last()) else {
        return;
    };
    let big_label = fmt_bytes(big.bytes as f64);
    tour.headline(
        &format!("fork with {big_label}"),
        big.fork.median_us(),
        "µs",
    );
    let us = |rounds: &[f64]| rounds.iter().map(|s| s * 1e6).collect::<Vec<_>>();
    tour.judge(
        &claims::FORK_GROWS,
        Inputs::new()
            .with("largest region", big.bytes as f64, "bytes")
            .with("smallest region", small.bytes as f64, "bytes")
            .with_rounds("fork, largest region", &us(&big.rounds), "µs")
            .with_rounds("fork, smallest region", &us(&small.rounds), "µs"),
    );
    // The proof that fork does not copy comes from the kernel's own accounting, which a
    // busy machine cannot blur: while the child lives, the pages are mapped by both.
    tour.judge(
        &claims::FORK_DOES_NOT_COPY,
        Inputs::new()
            .with("written before fork", big.bytes as f64, "bytes")
            .with(
                "shared with the child",
                sharing.during.shared_dirty as f64,
                "bytes",
            )
            .with(
                "private to the parent",
                sharing.during.private_dirty as f64,
                "bytes",
            ),
    );
    // What that saves, in time. The ratio depends on the machine: fork does a little
    // work per page (copy an 8-byte entry, count one more user of the page), a copy
    // moves 4 KiB per page. On a virtual machine the per-page part costs more.
    tour.judge(
        &claims::FORK_CHEAPER_THAN_COPY,
        Inputs::new()
            .with("largest region", big.bytes as f64, "bytes")
            .with_rounds("copy of the region", &us(&copies), "µs")
            .with_rounds("fork with the region", &us(&forks), "µs"),
    );
    // Page tables: 8 bytes per page, so bytes / page_size * 8 per extra byte touched.
    let expected_per_mib = (MIB / page_size() * 8) as f64;
    let grown_mib = (big.bytes - small.bytes) as f64 / MIB as f64;
    let measured_per_mib =
        big.page_tables.saturating_sub(small.page_tables) as f64 / grown_mib.max(1.0);
    tour.judge(
        &claims::PAGE_TABLES,
        Inputs::new()
            .with("page tables per MiB touched", measured_per_mib, "bytes")
            .with("expected per MiB", expected_per_mib, "bytes"),
    );
}

fn copy_on_write(tour: &mut Tour, plan: &Plan) {
    let k = plan.cow_pages;
    let faults = tour.experiment(
        "copy-on-write",
        "Copy-on-write: the copy happens page by page, on write",
        "After fork, parent and child share every page read-only. When the child writes \
         a page, the CPU faults and the kernel copies that one page. A child writing k \
         pages should take about k minor page faults (getrusage).",
        |exp| {
            let mut region = Region::new((k + 16) * page_size())?;
            region.touch_all();
            let baseline = child_write_faults(&mut region, 0)?;
            let writing = child_write_faults(&mut region, k)?;
            exp.figure("pages written by the child", k as f64, "");
            exp.figure(
                "minor faults in a child that writes nothing",
                baseline as f64,
                "",
            );
            exp.figure(
                "minor faults in a child that writes k pages",
                writing as f64,
                "",
            );
            Ok::<_, procs::Error>(writing - baseline)
        },
    );
    if let Some(extra) = faults {
        tour.judge(
            &claims::COW_FAULTS,
            Inputs::new().with("faults per page written", extra as f64 / k as f64, ""),
        );
    }
}

fn zombies(tour: &mut Tour, me: i32) {
    let life = tour.experiment(
        "zombie",
        "Zombies",
        "A child that has exited stays in the process table, state Z, until its parent \
         waits for it; wait reaps it and /proc forgets it.",
        |exp| {
            let life = watch_a_zombie(Duration::from_secs(5))?;
            exp.note(format!(
                "child {} exited; before wait its state was {}; after wait: {}",
                life.pid,
                life.state_before_wait,
                if life.present_after_wait {
                    "still in /proc"
                } else {
                    "gone from /proc"
                }
            ));
            if let procs::spawn::Exit::Code(code) = life.exit {
                exp.figure("exit code the kernel kept for wait", f64::from(code), "");
            }
            exp.note(format!("wait reported: {}", life.exit));
            Ok::<_, procs::Error>(life)
        },
    );
    if let Some(life) = life {
        tour.judge(
            &claims::ZOMBIE,
            Inputs::new()
                .with(
                    "state Z seen before wait",
                    f64::from(u8::from(life.state_before_wait == 'Z')),
                    "",
                )
                .with(
                    "still in /proc after wait",
                    f64::from(u8::from(life.present_after_wait)),
                    "",
                ),
        );
    }
    // The tour forked many children; it must have reaped every one. A /proc that cannot
    // be scanned counts nothing, which the claim cannot tell from none: it fails.
    let left = zombies_of(me).map_or(f64::NAN, |left| left.len() as f64);
    tour.judge(
        &claims::NO_ZOMBIES_LEFT,
        Inputs::new().with("zombies left", left, ""),
    );
}
