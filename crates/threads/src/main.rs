//! The tour of lesson 2: `cargo run --release -p threads [-- --quick] [-- --json]`.
//!
//! Runs the lesson's experiments in order, prints what each shows with the figures
//! measured on this machine, and checks the lesson's claims against them. Lesson 1's
//! process is measured again here, in the same run, as the figure to compare with.

use std::process::ExitCode;
use std::time::Duration;

use procs::idle::{IdleProcesses, idle_processes};
use procs::measure::Stats;
use procs::tour::{Inputs, Tour, TourArgs, fmt_bytes};
use threads::claims;
use threads::cpu::{CpuSplit, split_work};
use threads::idle::{IdleMemory, idle_threads};
use threads::limit::{Limits, demo_in_child, hit_limit};
use threads::pool::ThreadPool;
use threads::sharing::{atomic_counter, mutex_counter, parallel_map};
use threads::spawn::start_costs;
use threads::waiting::wait_in_threads;

const ABOUT: &str = "Lesson 2 tour: what a thread costs next to a process, how many fit, \
                     what a thousand threads do on a few cores, and a pool.";

/// The hidden argument with which the tour runs itself as the child of the limit demo.
const DEMO_ARG: &str = "--demo-thread-limit";

// ANCHOR: plan
/// Sizes and counts: the full tour takes about ten seconds, `--quick` two or three.
struct Plan {
    start_trials: usize,
    idle_counts: [usize; 2],
    /// Waiting processes and threads measured at once, in each round of the comparison.
    waiting_units: usize,
    cpu_units: u64,
    counter_increments: u64,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                start_trials: 60,
                idle_counts: [1_000, 2_000],
                waiting_units: 100,
                cpu_units: 1_200,
                counter_increments: 1_000_000,
            }
        } else {
            Plan {
                start_trials: 300,
                idle_counts: [1_000, 10_000],
                waiting_units: 200,
                cpu_units: 4_000,
                counter_increments: 2_000_000,
            }
        }
    }
}
// ANCHOR_END: plan

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(DEMO_ARG) {
        return demo_child(&args[2..]);
    }
    let args = TourArgs::from_env(ABOUT);
    if args.falsify {
        return procs::tour::falsify("threads", claims::ALL, &args);
    }
    let plan = Plan::new(args.quick);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut tour = Tour::start(
        "threads",
        "what a thread costs, time slicing, a pool",
        args,
        8,
    );

    start_cost(&mut tour, &plan);
    let maps_per_thread = idle_memory(&mut tour, &plan);
    waiting_process_or_thread(&mut tour, &plan);
    limits(&mut tour, maps_per_thread);
    time_slicing(&mut tour, &plan, cores);
    waiting(&mut tour);
    sharing(&mut tour, &plan, cores);
    pool(&mut tour);

    tour.finish(claims::ALL)
}

fn start_cost(tour: &mut Tour, plan: &Plan) {
    let costs = tour.experiment(
        "start-cost",
        "What starting a thread costs, next to a process",
        "A thread needs a stack and a kernel task, no copy of the page tables and no new \
         program. Both are measured here side by side: spawn+join of an empty thread, and \
         lesson 1's fork+exec+wait of /bin/true.",
        |exp| {
            let c = start_costs(plan.start_trials)?;
            exp.figure("thread spawn + join", c.thread.wall.median_us(), "µs");
            exp.figure("thread spawn + join, CPU time", c.thread.cpu * 1e6, "µs");
            exp.figure(
                "process fork + exec + wait",
                c.process.wall.median_us(),
                "µs",
            );
            exp.figure(
                "process fork + exec + wait, CPU time",
                c.process.cpu * 1e6,
                "µs",
            );
            Ok::<_, threads::Error>(c)
        },
    );
    if let Some(c) = costs {
        tour.headline("thread start", c.thread.wall.median_us(), "µs");
        let us = |rounds: &[f64]| rounds.iter().map(|s| s * 1e6).collect::<Vec<_>>();
        tour.judge(
            &claims::THREAD_CHEAPER,
            Inputs::new()
                .with_rounds("process", &us(&c.process.cpu_rounds), "µs")
                .with_rounds("thread", &us(&c.thread.cpu_rounds), "µs"),
        );
    }
}

/// Returns the mappings each thread adds, for the limit experiment.
fn idle_memory(tour: &mut Tour, plan: &Plan) -> Option<f64> {
    // Stay well under this machine's limit (a container's pids.max can be low): at most
    // half of what the kernel settings allow, assuming 4 mappings per thread for now.
    let allowed = Limits::read().map_or(u64::MAX, |l| l.predict(4.0).threads / 2);
    let cap = |n: usize| n.min(usize::try_from(allowed).unwrap_or(usize::MAX)).max(1);
    let [few, many] = plan.idle_counts.map(cap);
    let runs = tour.experiment(
        "idle-memory",
        "What an idle thread costs in memory",
        "Threads parked at a gate, all alive at once. The default stack reserves 2 MiB of \
         address space, but an idle thread touches only a few pages of it: the virtual \
         size grows by megabytes per thread, the resident size by kilobytes. RSS does not \
         show the kernel's stack for each thread, nor the page tables; they are read \
         separately.",
        |exp| {
            let mut runs: Vec<IdleMemory> = Vec::new();
            for (n, stack) in [(few, None), (few, Some(64 * 1024)), (many, None)] {
                let m = idle_threads(n, stack)?;
                let label = match stack {
                    None => format!("{n} threads, default stack"),
                    Some(s) => format!("{n} threads, {} stack", fmt_bytes(s as f64)),
                };
                exp.figure(format!("{label}: RSS per thread"), m.rss, "bytes");
                exp.figure(format!("{label}: virtual size per thread"), m.virt, "bytes");
                exp.figure(
                    format!("{label}: page tables per thread"),
                    m.page_tables,
                    "bytes",
                );
                exp.figure(
                    format!("{label}: kernel stack per thread"),
                    m.kernel_stack,
                    "bytes",
                );
                exp.figure(format!("{label}: mappings per thread"), m.maps, "");
                runs.push(m);
            }
            exp.note(
                "Kernel stacks come from /proc/meminfo (the whole machine): other programs \
                 starting threads meanwhile add noise to that figure.",
            );
            Ok::<_, threads::Error>(runs)
        },
    );
    let runs = runs?;
    let (default, small, many_default) = (runs[0], runs[1], runs[2]);
    tour.headline("RSS per idle thread", many_default.rss, "bytes");
    tour.judge(
        &claims::SMALL_STACK_VIRTUAL,
        Inputs::new()
            .with("virtual, default stack", default.virt, "bytes")
            .with("virtual, 64 KiB stack", small.virt, "bytes"),
    );
    tour.judge(
        &claims::SMALL_STACK_RESIDENT,
        Inputs::new()
            .with("RSS, default stack", default.rss, "bytes")
            .with("RSS, 64 KiB stack", small.rss, "bytes"),
    );
    tour.judge(
        &claims::RESERVED_NOT_USED,
        Inputs::new()
            .with("idle threads", many as f64, "")
            .with("virtual per thread", many_default.virt, "bytes")
            .with("resident per thread", many_default.rss, "bytes"),
    );
    Some(many_default.maps)
}

/// Rounds of the process-or-thread comparison, taken in turns so that whatever else
/// the machine does falls on both alike.
const WAITING_ROUNDS: usize = 3;

// ANCHOR: waiting_rounds
fn waiting_process_or_thread(tour: &mut Tour, plan: &Plan) {
    let n = plan.waiting_units;
    let rounds = tour.experiment(
        "waiting-process-or-thread",
        "A waiting process or a waiting thread",
        "Lesson 1 measured what a waiting process costs: its own pages (USS) and the \
         kernel's memory for it (page tables, kernel stack, kernel objects). The same \
         figures for a waiting thread, measured in turns with lesson 1's processes in \
         this run: a thread's own pages are its stack's (RSS growth), and it shares the \
         process's page tables.",
        |exp| {
            let mut rounds: Vec<(IdleProcesses, IdleMemory)> = Vec::new();
            for _ in 0..WAITING_ROUNDS {
                let process = idle_processes(n)?;
                let thread = idle_threads(n, None)?;
                rounds.push((process, thread));
            }
            let process = Stats::median_of(rounds.iter().map(|r| r.0.per_process()).collect());
            let thread = Stats::median_of(rounds.iter().map(|r| r.1.per_thread()).collect());
            // ANCHOR_END: waiting_rounds
            exp.figure(
                "own pages per waiting process (USS)",
                Stats::median_of(rounds.iter().map(|r| r.0.uss).collect()),
                "bytes",
            );
            exp.figure(
                "own pages per waiting thread (RSS)",
                Stats::median_of(rounds.iter().map(|r| r.1.rss).collect()),
                "bytes",
            );
            exp.figure(
                "kernel memory per waiting process",
                Stats::median_of(rounds.iter().map(|r| r.0.kernel()).collect()),
                "bytes",
            );
            exp.figure(
                "kernel memory per waiting thread",
                Stats::median_of(
                    rounds
                        .iter()
                        .map(|r| r.1.page_tables + r.1.kernel_stack + r.1.slab)
                        .collect(),
                ),
                "bytes",
            );
            exp.figure("memory per waiting process", process, "bytes");
            exp.figure("memory per waiting thread", thread, "bytes");
            exp.figure("process / thread", process / thread, "x");
            exp.note(format!(
                "Each figure: the median of {WAITING_ROUNDS} rounds of {n} processes, then \
                 {n} threads, all waiting at once."
            ));
            Ok::<_, threads::Error>(rounds)
        },
    );
    // ANCHOR: waiting_judge
    if let Some(rounds) = rounds {
        let process: Vec<f64> = rounds.iter().map(|r| r.0.per_process()).collect();
        let thread: Vec<f64> = rounds.iter().map(|r| r.1.per_thread()).collect();
        tour.judge(
            &claims::WAITING_PROCESS_DEARER,
            Inputs::new()
                .with_rounds("memory per waiting process", &process, "bytes")
                .with_rounds("memory per waiting thread", &thread, "bytes"),
        );
    }
}
// ANCHOR_END: waiting_judge

fn limits(tour: &mut Tour, maps_per_thread: Option<f64>) {
    let result = tour.experiment(
        "limit",
        "How many threads fit, and what stops them",
        "The lowest of several kernel settings decides; often it is vm.max_map_count, \
         since each thread adds a few mappings. The tour computes the limit instead of \
         hitting it, and shows the failure in a child process whose address space it caps \
         (setrlimit RLIMIT_AS): there a spawn is refused, or the child aborts.",
        |exp| {
            let limits = Limits::read()?;
            for (name, value) in [
                ("vm.max_map_count", limits.max_map_count),
                ("kernel.threads-max", limits.tasks.threads_max),
                ("kernel.pid_max", limits.tasks.pid_max),
                ("cgroup pids.max", limits.tasks.cgroup_pids_max),
                ("RLIMIT_NPROC", limits.tasks.rlimit_nproc),
            ] {
                match value {
                    Some(v) => {
                        exp.figure(name, v as f64, "");
                    }
                    None => exp.note(format!("{name}: no limit that applies here")),
                }
            }
            exp.figure("mappings in use now", limits.maps_in_use as f64, "");
            let per_thread = maps_per_thread.unwrap_or(4.0);
            let predicted = limits.predict(per_thread);
            exp.figure(
                "predicted thread limit",
                predicted.threads as f64,
                "threads",
            );
            exp.note(format!(
                "bound by {}, at {per_thread:.1} mappings per thread",
                predicted.bound_by
            ));
            let me = std::env::current_exe().map_err(|e| threads::Error::Invalid {
                what: "tour binary",
                reason: format!("cannot find it to run the child: {e}"),
            })?;
            // Room for about 16 default stacks: the child hits its cap quickly.
            let asked = 200;
            let (report, ending) = demo_in_child(&me, asked, 32 << 20)?;
            match &report {
                Some(r) => {
                    exp.figure("child: threads asked for", r.asked as f64, "");
                    exp.figure(
                        "child: threads running before the refusal",
                        r.started as f64,
                        "",
                    );
                    exp.note(format!(
                        "child: {}; {ending}",
                        r.error.as_deref().unwrap_or("no spawn was refused")
                    ));
                }
                None => exp.note(format!("child: {ending} before it could report")),
            }
            Ok::<_, threads::Error>((report, ending, asked))
        },
    );
    if let Some((report, ending, asked)) = result {
        let started = report.as_ref().map(|r| r.started);
        let refused = match (&report, started) {
            (Some(r), Some(n)) => n < asked && r.error.is_some(),
            _ => ending.contains("signal"),
        };
        // A child killed before it could report started fewer than it asked for.
        let started = started.unwrap_or(0);
        tour.judge(
            &claims::LIMIT_REFUSES,
            Inputs::new()
                .with("threads asked for", asked as f64, "")
                .with("threads running before the refusal", started as f64, "")
                .with(
                    "a spawn was refused or the child was killed",
                    f64::from(u8::from(refused)),
                    "",
                ),
        );
    }
}

fn time_slicing(tour: &mut Tour, plan: &Plan, cores: usize) {
    let counts = [1, cores, 4 * cores, 1000];
    let runs = tour.experiment(
        "time-slicing",
        "CPU-bound work on 1, cores, 4x cores and 1,000 threads",
        "The same work split over more and more threads that start together (best of two \
         rounds). Throughput \
         stops growing at the number of cores; past it, the scheduler time-slices: \
         context switches climb, and each thread's work is stretched over a longer wall \
         time (stretch = wall time until the thread finished / CPU time it used).",
        |exp| {
            // Two rounds over all the counts; each count shows its faster run, and the
            // claims compare the rounds, so a burst of noise during one run shows as a
            // spread instead of deciding a claim.
            let mut rounds: Vec<Vec<CpuSplit>> = vec![Vec::new(); counts.len()];
            for _ in 0..2 {
                for (i, &n) in counts.iter().enumerate() {
                    rounds[i].push(split_work(plan.cpu_units, n)?);
                }
            }
            let runs: Vec<CpuSplit> = rounds
                .iter()
                .filter_map(|r| r.iter().copied().max_by(|a, b| a.throughput.total_cmp(&b.throughput)))
                .collect();
            for r in &runs {
                let n = r.threads;
                exp.note(format!(
                    "{n:>5} threads: {:>8.0} units/s, wall {:>6.0} ms, stretch {:>6.1}, {:>6} context switches ({} involuntary)",
                    r.throughput,
                    r.wall * 1e3,
                    r.stretch,
                    r.switches,
                    r.involuntary
                ));
                exp.figure(format!("throughput with {n} threads"), r.throughput, "units/s");
                exp.figure(format!("work per CPU-second with {n} threads"), r.per_cpu_second, "units/CPU-s");
                exp.figure(format!("stretch with {n} threads"), r.stretch, "x");
                exp.figure(format!("context switches with {n} threads"), r.switches as f64, "");
            }
            Ok::<_, threads::Error>((runs, rounds))
        },
    );
    let Some((runs, rounds)) = runs else { return };
    let (at_cores, thousand) = (runs[1], runs[3]);
    tour.headline(
        "1,000 vs cores threads",
        thousand.throughput / at_cores.throughput,
        "x",
    );
    let cores_f = cores as f64;
    tour.judge(
        &claims::THOUSAND_NOT_FASTER,
        Inputs::new()
            .with("cores", cores_f, "")
            .with(
                "cores kept busy by the cores threads",
                at_cores.throughput / at_cores.per_cpu_second,
                "",
            )
            .with_rounds(
                "throughput, 1,000 threads",
                &rounds[3].iter().map(|r| r.throughput).collect::<Vec<_>>(),
                "units/s",
            )
            .with_rounds(
                "throughput, cores threads",
                &rounds[1].iter().map(|r| r.throughput).collect::<Vec<_>>(),
                "units/s",
            )
            .with("stretch, 1,000 threads", thousand.stretch, "x"),
    );
    let each = |i: usize, f: fn(&CpuSplit) -> f64| rounds[i].iter().map(f).collect::<Vec<_>>();
    tour.judge(
        &claims::SWITCHES_CLIMB,
        Inputs::new()
            .with("cores", cores_f, "")
            .with_rounds(
                "switches, 1,000 threads",
                &each(3, |r| r.switches as f64),
                "",
            )
            .with_rounds(
                "switches, cores threads",
                &each(1, |r| r.switches.max(1) as f64),
                "",
            ),
    );
    tour.judge(
        &claims::STRETCH_GROWS,
        Inputs::new()
            .with("cores", cores_f, "")
            .with_rounds("stretch, 1,000 threads", &each(3, |r| r.stretch), "x")
            .with_rounds("stretch, cores threads", &each(1, |r| r.stretch), "x"),
    );
}

fn waiting(tour: &mut Tour) {
    let wait = Duration::from_millis(50);
    let n = 1000;
    let times = tour.experiment(
        "waiting",
        "Waiting is different: 1,000 threads that each wait 50 ms",
        "A sleeping (or blocked) thread needs no core, so waits overlap: a thousand \
         threads waiting 50 ms each finish in about 50 ms plus their start-up, not in \
         50 s. Threads are fine at waiting; their price is memory and start-up.",
        |exp| {
            // Three rounds, in turns: the claim compares them all, so a slow moment of
            // the machine shows as a spread, not as a verdict.
            let (mut ones, mut alls) = (Vec::new(), Vec::new());
            for _ in 0..3 {
                ones.push(wait_in_threads(1, wait)? * 1e3);
                alls.push(wait_in_threads(n, wait)? * 1e3);
            }
            let median = |v: &[f64]| Stats::median_of(v.to_vec());
            exp.figure("1 thread waiting 50 ms", median(&ones), "ms");
            exp.figure("1,000 threads waiting 50 ms each", median(&alls), "ms");
            exp.figure(
                "one after another (computed: 1,000 x 50 ms)",
                n as f64 * 50.0,
                "ms",
            );
            let all = median(&alls);
            Ok::<_, threads::Error>((ones, alls, all))
        },
    );
    if let Some((ones, alls, all)) = times {
        tour.headline("1,000 threads waiting 50 ms", all, "ms");
        tour.judge(
            &claims::WAITS_OVERLAP,
            Inputs::new()
                .with_rounds("1,000 threads", &alls, "ms")
                .with_rounds("1 thread", &ones, "ms"),
        );
    }
}

fn sharing(tour: &mut Tour, plan: &Plan, cores: usize) {
    let threads = 2 * cores.max(2);
    let result = tour.experiment(
        "sharing",
        "Sharing a counter: Mutex vs atomic; a parallel map with scoped threads",
        "Threads incrementing one shared counter; neither loses an increment (checked). \
         With a Mutex, a thread that finds the lock taken sleeps and must be woken; an \
         atomic fetch_add never sleeps. Scoped \
         threads may borrow the caller's data, so a parallel map needs no Arc.",
        |exp| {
            let per = plan.counter_increments;
            // Five alternating rounds: a burst of noise from other programs then falls on
            // both methods, and the claim compares all five of each.
            let (mut mutexes, mut atomics) = (Vec::new(), Vec::new());
            for _ in 0..5 {
                mutexes.push(mutex_counter(threads, per)?);
                atomics.push(atomic_counter(threads, per)?);
            }
            let fastest = |runs: &[threads::sharing::PerIncrement]| {
                runs.iter()
                    .copied()
                    .min_by(|a, b| a.wall.total_cmp(&b.wall))
                    .expect("five rounds ran")
            };
            let (mutex, atomic) = (fastest(&mutexes), fastest(&atomics));
            exp.figure(
                format!("Mutex<u64>, {threads} threads"),
                mutex.wall,
                "ns/increment",
            );
            exp.figure("Mutex<u64>, CPU time", mutex.cpu, "ns/increment");
            exp.figure(
                format!("AtomicU64, {threads} threads"),
                atomic.wall,
                "ns/increment",
            );
            exp.figure("AtomicU64, CPU time", atomic.cpu, "ns/increment");
            exp.note(
                "A contended fetch_add neither spins nor sleeps: its core stalls while the \
                 counter's cache line comes to it (a core must own the line to write it). A \
                 Mutex's losers spin for a moment, then sleep in the kernel, and waking them \
                 is a system call.",
            );
            let items: Vec<u64> = (0..2_000).collect();
            let parallel = parallel_map(&items, cores, |&x| threads::cpu::busy(1) ^ x);
            let sequential: Vec<u64> = items.iter().map(|&x| threads::cpu::busy(1) ^ x).collect();
            exp.note(format!(
                "parallel_map over {} items on {cores} scoped threads: {}",
                items.len(),
                if parallel == sequential {
                    "same results as the sequential map, in the same order"
                } else {
                    "DIFFERENT results from the sequential map"
                }
            ));
            let differ = parallel
                .iter()
                .zip(&sequential)
                .filter(|(a, b)| a != b)
                .count()
                + parallel.len().abs_diff(sequential.len());
            let walls = |runs: &[threads::sharing::PerIncrement]| {
                runs.iter().map(|r| r.wall).collect::<Vec<_>>()
            };
            Ok::<_, threads::Error>((walls(&mutexes), walls(&atomics), differ))
        },
    );
    if let Some((mutex, atomic, differ)) = result {
        tour.judge(
            &claims::ATOMIC_FASTER,
            Inputs::new()
                .with_rounds("Mutex", &mutex, "ns/increment")
                .with_rounds("atomic", &atomic, "ns/increment"),
        );
        tour.judge(
            &claims::PARALLEL_MAP,
            Inputs::new().with(
                "items that differ from the sequential map",
                differ as f64,
                "",
            ),
        );
    }
}

fn pool(tour: &mut Tour) {
    let workers = 4;
    let jobs = 16;
    let job_ms = 25;
    let result = tour.experiment(
        "pool",
        "A thread pool",
        "Four workers take 16 jobs (each waits 25 ms) from one queue, plus one job that \
         panics. The jobs overlap four at a time; the panic is caught and reported, and its \
         worker goes on.",
        |exp| {
            let pool = ThreadPool::new(workers).map_err(|e| threads::Error::Invalid {
                what: "pool",
                reason: e.to_string(),
            })?;
            let start = std::time::Instant::now();
            let submit = |job: Box<dyn FnOnce() + Send>| {
                pool.execute(job).map_err(|e| threads::Error::Invalid {
                    what: "pool",
                    reason: e.to_string(),
                })
            };
            // The default panic hook would print the panic (with a backtrace if
            // RUST_BACKTRACE is set) in the middle of the tour; the pool's report
            // carries the message, so the hook is silenced while the pool runs.
            let default_hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            submit(Box::new(|| panic!("a job that fails on purpose")))?;
            // Each job counts itself in while it runs: the most seen at once is how many
            // workers really run side by side, whatever the machine's speed.
            let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            for _ in 0..jobs {
                let (running, peak) = (running.clone(), peak.clone());
                submit(Box::new(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    // Counters only: read-modify-writes of one variable never miss each other, and
                    // `peak` is read after `shutdown` joined the workers. Relaxed would do.
                    let now = running.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    std::thread::sleep(Duration::from_millis(job_ms));
                    running.fetch_sub(1, SeqCst);
                }))?;
            }
            let report = pool.shutdown();
            let wall = start.elapsed().as_secs_f64() * 1e3;
            std::panic::set_hook(default_hook);
            exp.figure("wall time for all jobs", wall, "ms");
            exp.figure(
                "the jobs' own time, added up",
                (jobs as u64 * job_ms) as f64,
                "ms",
            );
            exp.figure("jobs that ran", report.ran as f64, "");
            // `shutdown` joined the workers, so their updates of `peak` are all visible here.
            let peak = peak.load(std::sync::atomic::Ordering::SeqCst);
            exp.figure("jobs running at once, at most", peak as f64, "");
            exp.note(format!("panics reported: {:?}", report.panicked));
            Ok::<_, threads::Error>((wall, report, peak))
        },
    );
    if let Some((wall, report, peak)) = result {
        let total = (jobs as u64 * job_ms) as f64;
        tour.judge(
            &claims::POOL_OVERLAPS,
            Inputs::new()
                .with("workers", workers as f64, "")
                .with("jobs running at once, at most", peak as f64, "")
                .with("wall time", wall, "ms")
                .with("jobs' own time", total, "ms"),
        );
        tour.judge(
            &claims::POOL_SURVIVES_PANIC,
            Inputs::new()
                .with("jobs submitted after the panic", jobs as f64, "")
                .with("jobs that ran", report.ran as f64, "")
                .with("panics reported", report.panicked.len() as f64, ""),
        );
    }
}

/// The child of the limit experiment: caps its address space and starts threads until
/// refused; prints the report for the parent on stdout.
fn demo_child(args: &[String]) -> ExitCode {
    let parse = |i: usize| args.get(i).and_then(|s| s.parse::<u64>().ok());
    let (Some(asked), Some(room)) = (parse(0), parse(1)) else {
        eprintln!("usage: threads {DEMO_ARG} ASKED ROOM_BYTES (used by the tour itself)");
        return ExitCode::from(procs::exit::Exit::Usage);
    };
    match hit_limit(asked.min(10_000) as usize, room) {
        Ok(report) => {
            print!("{}", report.to_lines());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
