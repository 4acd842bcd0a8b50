//! The result of a run: what `--json` writes, and the same as Markdown tables.

use procs::measure::ratio;
use serde::Serialize;

use crate::plan::{CURRENT_PIPELINED, MULTI_PIPELINED, Metric, PeerPlan, WRK_PIPELINED};

/// Everything one run measured: what `--json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct Peers {
    pub machine: String,
    pub plan: PeerPlan,
    /// The documents' total size in bytes (0 when nginx is missing: none were made).
    pub document_bytes: u64,
    /// Where the `--out` rows write (the write floor and the engine with `--out`), and
    /// whether it is a tmpfs.
    pub write_folder: String,
    /// How the servers were started and scheduled ([`servers_setup`]).
    pub servers: String,
    pub tools: Vec<Tool>,
    pub measurements: Vec<Measurement>,
    pub comparisons: Vec<Comparison>,
}

impl Peers {
    /// Whether something that was available failed to run (the command's exit code).
    pub fn failed(&self) -> bool {
        self.measurements
            .iter()
            .any(|m| matches!(m.figure, Figure::Failed { .. }))
    }
}

/// A tool this benchmark uses, and whether it was found.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: String,
    /// Its version and where it is, or why it is not used.
    pub status: String,
    pub found: bool,
}

/// One row: a client fetching from a server.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub name: String,
    pub unit: String,
    #[serde(flatten)]
    pub figure: Figure,
}

/// What a row holds.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Figure {
    Measured {
        /// The median of the rounds.
        per_sec: f64,
        /// Each round's figure, in order.
        samples: Vec<f64>,
        /// The client's CPU time (user + system) per document, in µs, median of the
        /// rounds: `None` when the kernel would not say.
        cpu_us_per_doc: Option<f64>,
        /// Each round's CPU time per document, in order (as `samples`): `None` when the
        /// kernel would not say in some round. A comparison sets each round against
        /// the same round of the other row.
        cpu_samples: Option<Vec<f64>>,
    },
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
    },
}

/// One target of the issue, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub name: String,
    pub ours: String,
    pub theirs: String,
    /// The row subtracted from ours, for a comparison of what ours adds to it
    /// ([`Metric::AddedCpuPerDoc`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// What is compared, and so which way `ratio` reads.
    pub metric: Metric,
    pub target: f64,
    /// When both were measured: ours / theirs in documents (or requests) per second,
    /// theirs / ours in CPU time per document, theirs / (ours − base) in CPU time per
    /// document added. At or above `target` is good in every case.
    pub ratio: Option<f64>,
    /// The lowest and highest of the ratios each round gives alone (round `i` of each
    /// row against round `i` of the others: measured in turns, on the machine in the
    /// same state); `None` with a single round, or rounds that do not line up (then
    /// `note` says so). A target inside it is too close to call.
    pub per_round: Option<RoundRange>,
    /// What the ratio does not say (a target met without a ratio, and why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The spread of a comparison's ratio over the rounds: the run's own noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RoundRange {
    pub low: f64,
    /// `None`: no upper bound, a round in which ours added nothing to the base
    /// ([`Metric::AddedCpuPerDoc`]), which no ratio says.
    pub high: Option<f64>,
}

impl RoundRange {
    /// Whether `target` lies within the range, its ends included.
    pub fn holds(&self, target: f64) -> bool {
        self.low <= target && self.high.is_none_or(|high| target <= high)
    }
}

impl std::fmt::Display for RoundRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.high {
            Some(high) => write!(f, "{:.2}–{high:.2}", self.low),
            None => write!(f, "{:.2}–∞", self.low),
        }
    }
}

/// How a comparison came out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Met,
    Missed,
    /// The target lies within the rounds' own ratios ([`RoundRange`]): the difference
    /// is inside the run's noise, neither met nor missed.
    TooCloseToCall,
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
    },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Met => write!(f, "met"),
            Outcome::Missed => write!(f, "missed"),
            Outcome::TooCloseToCall => write!(f, "too close to call"),
            Outcome::Skipped { reason } => write!(f, "skipped: {}", cell(reason)),
            Outcome::Failed { error } => write!(f, "failed: {}", cell(error)),
        }
    }
}

/// How the servers ran, for the report: in which session, and what the scheduler made
/// of it (`autogroup`: the kernel's switch, `None` where it has none).
pub fn servers_setup(own_session: bool, autogroup: Option<bool>) -> String {
    let session = if own_session {
        "nginx and the corpus server each in a session of its own, as a daemon runs"
    } else {
        "nginx and the corpus server in this command's session (--servers-in-our-session)"
    };
    let scheduling = match (autogroup, own_session) {
        (Some(true), true) => {
            "the kernel's autogroup is on, so each session is a scheduling group of its own"
        }
        (Some(true), false) => {
            "the kernel's autogroup is on, so they share one scheduling group with the \
             clients, thread by thread"
        }
        (Some(false), _) => "the kernel's autogroup is off: every thread is scheduled alone",
        (None, _) => "this kernel has no autogroup switch",
    };
    format!("{session}; {scheduling}")
}

// ANCHOR: markdown
/// The run as Markdown: the figures, then the targets.
pub fn markdown(peers: &Peers) -> String {
    let plan = &peers.plan;
    let mut text = format!(
        "{} documents of 2–8 KB ({:.0} MB), {} connections, wrk -t{} -d{}s, median of {} round{}; {}.\n",
        thousands(plan.documents as f64),
        peers.document_bytes as f64 / 1e6,
        plan.connections,
        plan.wrk_threads,
        plan.wrk_secs,
        plan.rounds,
        if plan.rounds == 1 { "" } else { "s" },
        peers.machine,
    );
    let tools: Vec<String> = peers
        .tools
        .iter()
        .map(|t| format!("{}: {}", t.name, t.status))
        .collect();
    text.push_str(&format!(
        "Pipelined: {} requests sent at once on each connection, before the first response.\n",
        plan.pipeline
    ));
    text.push_str(&format!("Tools: {}.\n", tools.join("; ")));
    text.push_str(&format!("Servers: {}.\n", peers.servers));
    text.push_str(&format!(
        "The --out rows write to {}.\n\n",
        peers.write_folder
    ));
    text.push_str("| client → server | figure | client CPU µs/doc | rounds |\n");
    text.push_str("|---|---:|---:|---|\n");
    for m in &peers.measurements {
        let (figure, cpu, rounds) = match &m.figure {
            Figure::Measured {
                per_sec,
                samples,
                cpu_us_per_doc,
                cpu_samples,
            } => (
                format!("{} {}", thousands(*per_sec), m.unit),
                cpu_cell(*cpu_us_per_doc, cpu_samples.as_deref()),
                samples
                    .iter()
                    .map(|s| thousands(*s))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
            Figure::Skipped { reason } => (
                format!("skipped: {}", cell(reason)),
                String::new(),
                String::new(),
            ),
            Figure::Failed { error } => (
                format!("failed: {}", cell(error)),
                String::new(),
                String::new(),
            ),
        };
        text.push_str(&format!("| {} | {figure} | {cpu} | {rounds} |\n", m.name));
    }
    text.push_str(
        "\n| target | ratio of | ratio | per round | wanted | result |\n\
         |---|---|---:|---:|---:|---|\n",
    );
    for c in &peers.comparisons {
        let ratio = c.ratio.map_or("–".into(), |r| format!("{r:.2}x"));
        let per_round = c.per_round.map_or("–".into(), |range| range.to_string());
        let note = c
            .note
            .as_ref()
            .map_or(String::new(), |n| format!(" ({})", cell(n)));
        text.push_str(&format!(
            "| {} | {} | {ratio} | {per_round} | ≥ {}x | {}{note} |\n",
            c.name,
            reads(c.metric),
            c.target,
            c.outcome
        ));
    }
    text.push_str(
        "\nEvery ratio reads \"higher is better\": CPU per document is compared as the \
         other side's CPU over ours, so 0.90x is ours using 1.11 times as much.\n",
    );
    text.push_str(&how_judged(plan.rounds));
    text.push_str(&added(&peers.comparisons));
    text.push_str(&same_footing(&peers.measurements));
    text
}

/// How a target is judged, said under the targets table: with one round, that it
/// cannot tell a difference from noise.
fn how_judged(rounds: usize) -> String {
    let rule = "\nThe ratio is that of the rows' medians. \"Per round\" is the lowest and \
                highest of the ratios each round gives alone (each row's round against the \
                same round of the others, measured in turns): a target inside that range is \
                too close to call, the difference being inside the run's own noise; \
                outside it, the median ratio says met or missed.\n";
    if rounds >= 2 {
        return rule.to_string();
    }
    format!(
        "{rule}\nOne round: a single measurement cannot tell a difference from noise, so \
         there is no range, and met and missed here are not firm; take two rounds or \
         more (the full run takes 3; --rounds N sets it).\n"
    )
}

/// The CPU per document column: the median, then each round's when there are several.
fn cpu_cell(median: Option<f64>, rounds: Option<&[f64]>) -> String {
    let Some(median) = median else {
        return "?".into();
    };
    match rounds {
        Some(rounds) if rounds.len() > 1 => {
            let each: Vec<String> = rounds.iter().map(|us| format!("{us:.1}")).collect();
            format!("{median:.1} ({})", each.join(" / "))
        }
        _ => format!("{median:.1}"),
    }
}

/// Which way a comparison's ratio is taken.
fn reads(metric: Metric) -> &'static str {
    match metric {
        Metric::PerSec => "per second, ours ÷ theirs",
        Metric::CpuPerDoc => "CPU per doc, theirs ÷ ours",
        Metric::AddedCpuPerDoc { .. } => "CPU per doc, theirs ÷ (ours − base)",
    }
}

/// How a comparison of what one row adds to another reads, said once under the table
/// for each such comparison.
fn added(comparisons: &[Comparison]) -> String {
    comparisons
        .iter()
        .filter_map(|c| {
            let base = c.base.as_deref()?;
            Some(format!(
                "\n\"{}\": what \"{}\" spends per document beyond \"{base}\" (the \
                 base) against \"{}\": theirs ÷ (ours − base), so {}x is what it adds at \
                 most {:.2} times theirs; when it adds nothing (ours ≤ base), the target is \
                 met without a ratio.\n",
                c.name,
                c.ours,
                c.theirs,
                c.target,
                1.0 / c.target
            ))
        })
        .collect()
}

/// Pipelining against pipelining: how the pipelined engines compare with wrk
/// pipelined as deep (no target; said so that the targets above are read rightly).
fn same_footing(measurements: &[Measurement]) -> String {
    let per_sec = |name: &str| {
        measurements.iter().find_map(|m| match &m.figure {
            Figure::Measured { per_sec, .. } if m.name == name => Some(*per_sec),
            _ => None,
        })
    };
    let Some(wrk) = per_sec(WRK_PIPELINED) else {
        return String::new();
    };
    let ours: Vec<String> = [
        ("tokio-multi", MULTI_PIPELINED),
        ("tokio (current-thread)", CURRENT_PIPELINED),
    ]
    .iter()
    .filter_map(|&(engine, name)| {
        per_sec(name).map(|ours| format!("{engine} {:.2}x", ratio(ours, wrk)))
    })
    .collect();
    if ours.is_empty() {
        return String::new();
    }
    format!(
        "\nBoth sides pipelined, the engines against wrk pipelined as deep: {}.\n",
        ours.join(", ")
    )
}
// ANCHOR_END: markdown

/// 65432.1 as "65,432".
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `text` fit for a table cell: one line, no `|`, at most 200 characters (the whole
/// text is in the log and in the JSON).
pub fn cell(text: &str) -> String {
    let line = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|");
    match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(65_432.4), "65,432");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
    }

    /// A run of `rounds` rounds with one comparison, too close to call.
    fn peers(rounds: usize) -> Peers {
        Peers {
            machine: "a test".into(),
            plan: PeerPlan {
                rounds,
                ..PeerPlan::quick()
            },
            document_bytes: 0,
            write_folder: "/dev/shm".into(),
            servers: "in a test".into(),
            tools: Vec::new(),
            measurements: Vec::new(),
            comparisons: vec![Comparison {
                name: "ours vs theirs".into(),
                ours: "ours".into(),
                theirs: "theirs".into(),
                base: None,
                metric: Metric::PerSec,
                target: 0.5,
                ratio: Some(0.52),
                per_round: Some(RoundRange {
                    low: 0.47,
                    high: Some(0.58),
                }),
                note: None,
                outcome: Outcome::TooCloseToCall,
            }],
        }
    }

    #[test]
    fn the_targets_table_shows_the_rounds_range_and_one_round_says_it_cannot_tell() {
        let text = markdown(&peers(3));
        assert!(
            text.contains("| 0.52x | 0.47–0.58 | ≥ 0.5x | too close to call |"),
            "{text}"
        );
        assert!(!text.contains("One round"), "{text}");
        assert!(markdown(&peers(1)).contains("One round"));
    }

    #[test]
    fn the_json_carries_the_range_and_the_outcome() {
        let json = serde_json::to_value(&peers(3).comparisons[0]).unwrap();
        assert_eq!(json["per_round"]["low"], 0.47);
        assert_eq!(json["per_round"]["high"], 0.58);
        assert_eq!(json["result"], "too_close_to_call");
    }

    #[test]
    fn a_round_range_holds_its_ends_and_may_have_no_top() {
        let range = RoundRange {
            low: 0.47,
            high: Some(0.58),
        };
        assert!(range.holds(0.47) && range.holds(0.5) && range.holds(0.58));
        assert!(!range.holds(0.46) && !range.holds(0.59));
        assert_eq!(range.to_string(), "0.47–0.58");
        let open = RoundRange {
            low: 0.47,
            high: None,
        };
        assert!(open.holds(1e9) && !open.holds(0.4));
        assert_eq!(open.to_string(), "0.47–∞");
    }

    #[test]
    fn outcomes_read_as_snake_case_in_the_json() {
        let json = |outcome: Outcome| serde_json::to_string(&outcome).unwrap();
        assert_eq!(json(Outcome::Met), r#"{"result":"met"}"#);
        assert_eq!(
            json(Outcome::TooCloseToCall),
            r#"{"result":"too_close_to_call"}"#
        );
        assert_eq!(
            json(Outcome::Skipped {
                reason: "no wrk".into()
            }),
            r#"{"result":"skipped","reason":"no wrk"}"#
        );
    }

    #[test]
    fn the_report_says_where_the_servers_ran_and_how_they_were_scheduled() {
        let own = servers_setup(true, Some(true));
        assert!(own.contains("each in a session of its own"), "{own}");
        assert!(own.contains("a scheduling group of its own"), "{own}");
        let ours = servers_setup(false, Some(true));
        assert!(ours.contains("this command's session"), "{ours}");
        assert!(ours.contains("share one scheduling group"), "{ours}");
        assert!(servers_setup(true, Some(false)).contains("autogroup is off"));
        assert!(servers_setup(false, None).contains("no autogroup switch"));
        let mut run = peers(3);
        run.servers = ours.clone();
        assert!(markdown(&run).contains(&format!("Servers: {ours}.\n")));
    }
}
