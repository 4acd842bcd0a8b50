//! The tour protocol: how every lesson reports what it measured and whether its claims held.
//!
//! Each lesson's `src/main.rs` is a *tour*: it runs the lesson's experiments in order,
//! prints what each one shows with its measured figures, and then checks the lesson's
//! claims against those figures. The same report goes to a person (plain text on stdout)
//! or to a machine (`--json`, read by `cargo xtask run-all`). Every lesson uses this one
//! module, so every tour looks and behaves the same.
//!
//! A claim is never a typed-in number. It is a statement plus the figures measured in
//! this very run that decide it, e.g. "fork of a 512 MiB process costs 9.1x a 1 MiB one
//! (>= 3x required)". Ratios of figures from the same run are what make a claim hold on a
//! noisy, shared, two-core machine as well as on a quiet laptop.
//!
//! The JSON report (schema 1) is one object:
//!
//! ```text
//! { "schema": 1, "lesson": "procs", "title": "...", "quick": false, "seconds": 3.2,
//!   "host": { "os", "kernel", "arch", "cores", "rustc", "git_revision" },
//!   "experiments": [ { "id", "title", "shows", "seconds", "error": null | "...",
//!                      "figures": [ FIGURE ], "notes": [ "..." ] } ],
//!   "claims": [ { "id", "statement", "verdict": "held" | "failed", "decided_by",
//!                 "figures": [ FIGURE ] } ],
//!   "headline": [ FIGURE ] }
//!
//! FIGURE = { "name", "value" (null if not measurable), "unit", "text" (e.g. "549 µs") }
//! ```
//!
//! With `--json`, progress (one line per experiment as it starts) goes to stderr and the
//! report to stdout, so a driver can show progress live and still parse the result.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

/// Version of the JSON layout above; `cargo xtask` refuses reports it does not know.
pub const SCHEMA: u32 = 1;

/// One measured quantity, always with its unit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// The value as a person reads it ("549 µs", "512 MiB"), so that every reader of the
    /// JSON report (xtask's summary, a chart) shows it the way the tour does.
    pub text: String,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        let unit = unit.into();
        Figure {
            name: name.into(),
            text: fmt_value(value, &unit),
            value,
            unit,
        }
    }
}

/// What one experiment showed.
#[derive(Debug, Clone, Serialize)]
pub struct Experiment {
    pub id: String,
    pub title: String,
    /// One or two sentences: what a learner should take away.
    pub shows: String,
    pub figures: Vec<Figure>,
    /// Free-form lines (tables, listings) printed under the figures.
    pub notes: Vec<String>,
    pub seconds: f64,
    /// Set when the experiment could not run; the tour then fails.
    pub error: Option<String>,
}

impl Experiment {
    /// Records a figure and returns its value, so a claim can use it later.
    pub fn figure(&mut self, name: impl Into<String>, value: f64, unit: impl Into<String>) -> f64 {
        self.figures.push(Figure::new(name, value, unit));
        value
    }

    /// Adds a line of free text (a row of a table, a listing).
    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Held,
    Failed,
}

/// A statement the lesson makes, decided by figures measured in this run.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    pub id: String,
    pub statement: String,
    pub verdict: Verdict,
    /// The deciding comparison in words, e.g. "9.1x (>= 3x required)".
    pub decided_by: String,
    pub figures: Vec<Figure>,
}

impl Claim {
    /// A claim decided by a boolean that the caller computed from measured figures.
    pub fn check(
        id: &str,
        statement: impl Into<String>,
        held: bool,
        decided_by: impl Into<String>,
        figures: Vec<Figure>,
    ) -> Self {
        Claim {
            id: id.to_string(),
            statement: statement.into(),
            verdict: if held { Verdict::Held } else { Verdict::Failed },
            decided_by: decided_by.into(),
            figures,
        }
    }

    // ANCHOR: ratio_at_least
    /// "`big` is at least `min_ratio` times `small`": the most common claim of the course.
    /// Both figures must have the same unit; a zero or negative `small` fails the claim
    /// rather than dividing by zero.
    pub fn ratio_at_least(
        id: &str,
        statement: impl Into<String>,
        big: Figure,
        small: Figure,
        min_ratio: f64,
    ) -> Self {
        let ratio = if small.value > 0.0 {
            big.value / small.value
        } else {
            f64::NAN
        };
        // NaN compares false, so an unmeasurable ratio is a failed claim.
        let held = ratio >= min_ratio;
        let decided_by = format!(
            "{} / {} = {} (>= {}x required)",
            fmt_value(big.value, &big.unit),
            fmt_value(small.value, &small.unit),
            fmt_ratio(ratio),
            min_ratio
        );
        Claim::check(id, statement, held, decided_by, vec![big, small])
    }
    // ANCHOR_END: ratio_at_least
}

/// The machine the figures were measured on: they mean little without it.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub os: String,
    pub kernel: String,
    pub arch: String,
    pub cores: usize,
    pub rustc: String,
    pub git_revision: String,
}

impl Host {
    /// Reads the host's description. Nothing here can fail the tour: what cannot be read
    /// is reported as "unknown".
    pub fn detect() -> Self {
        let uname = nix::sys::utsname::uname().ok();
        let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
            uname
                .as_ref()
                .map(|u| f(u).to_string_lossy().into_owned())
                .unwrap_or_else(|| "unknown".into())
        };
        Host {
            os: field(|u| u.sysname()),
            kernel: field(|u| u.release()),
            arch: std::env::consts::ARCH.to_string(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            rustc: env!("PROCS_RUSTC_VERSION").to_string(),
            git_revision: git_revision(),
        }
    }
}

/// The commit the tour was built from, asked of git at run time so it is never stale.
fn git_revision() -> String {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => "unknown".to_string(),
    }
}

/// The whole report of one tour.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub lesson: String,
    pub title: String,
    pub quick: bool,
    pub seconds: f64,
    pub host: Host,
    pub experiments: Vec<Experiment>,
    pub claims: Vec<Claim>,
    /// The few figures `cargo xtask run-all` shows in its summary table.
    pub headline: Vec<Figure>,
}

impl Report {
    /// True when every experiment ran and every claim held.
    pub fn passed(&self) -> bool {
        self.experiments.iter().all(|e| e.error.is_none())
            && self.claims.iter().all(|c| c.verdict == Verdict::Held)
    }
}

/// Command-line options shared by every tour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TourArgs {
    /// Print the report as JSON on stdout (progress goes to stderr).
    pub json: bool,
    /// Smaller sizes and fewer trials, for CI.
    pub quick: bool,
}

/// What parsing the command line decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(TourArgs),
    /// `--help` was asked for: print this and exit successfully.
    Help(String),
    /// A bad argument: print this and exit with status 2.
    Bad(String),
}

impl TourArgs {
    /// Parses `--json`, `--quick` and `--help`; `about` is the tour's one-paragraph summary.
    pub fn parse(program: &str, about: &str, args: impl IntoIterator<Item = String>) -> Parsed {
        let usage = format!(
            "{about}\n\nUsage: {program} [--quick] [--json]\n\n\
             Options:\n  \
             --quick   smaller sizes and fewer trials (for CI; a few seconds)\n  \
             --json    print the report as JSON on stdout, progress on stderr\n  \
             -h, --help  print this help\n\n\
             Exits with status 1 when a claim fails or an experiment cannot run."
        );
        let mut parsed = TourArgs::default();
        for arg in args {
            match arg.as_str() {
                "--json" => parsed.json = true,
                "--quick" => parsed.quick = true,
                "-h" | "--help" => return Parsed::Help(usage),
                other => {
                    return Parsed::Bad(format!("error: unknown argument `{other}`\n\n{usage}"));
                }
            }
        }
        Parsed::Run(parsed)
    }

    /// Parses the process's own arguments, exiting on `--help` or a bad argument.
    pub fn from_env(about: &str) -> TourArgs {
        let mut args = std::env::args();
        let program = args.next().unwrap_or_else(|| "tour".into());
        match TourArgs::parse(&program, about, args) {
            Parsed::Run(a) => a,
            Parsed::Help(text) => {
                println!("{text}");
                std::process::exit(0);
            }
            Parsed::Bad(text) => {
                eprintln!("{text}");
                std::process::exit(2);
            }
        }
    }
}

/// Runs experiments one after another and collects the report.
#[derive(Debug)]
pub struct Tour {
    args: TourArgs,
    started: Instant,
    report: Report,
    planned: usize,
}

impl Tour {
    /// Starts a tour; `planned` is how many experiments it will run (for "[3/7]").
    pub fn start(lesson: &str, title: &str, args: TourArgs, planned: usize) -> Self {
        let report = Report {
            schema: SCHEMA,
            lesson: lesson.to_string(),
            title: title.to_string(),
            quick: args.quick,
            seconds: 0.0,
            host: Host::detect(),
            experiments: Vec::new(),
            claims: Vec::new(),
            headline: Vec::new(),
        };
        if !args.json {
            let h = &report.host;
            println!("{lesson}: {title}");
            println!(
                "host: {} {} {}, {} cores, {}, revision {}{}",
                h.os,
                h.kernel,
                h.arch,
                h.cores,
                h.rustc,
                h.git_revision,
                if args.quick { " (quick run)" } else { "" }
            );
        }
        Tour {
            args,
            started: Instant::now(),
            report,
            planned,
        }
    }

    pub fn quick(&self) -> bool {
        self.args.quick
    }

    /// Runs one experiment. If `body` returns an error the experiment is recorded as
    /// failed (the tour goes on, and exits non-zero at the end) and `None` is returned.
    pub fn experiment<T, E: std::fmt::Display>(
        &mut self,
        id: &str,
        title: &str,
        shows: &str,
        body: impl FnOnce(&mut Experiment) -> Result<T, E>,
    ) -> Option<T> {
        let n = self.report.experiments.len() + 1;
        let header = format!("[{n}/{}] {title}", self.planned);
        if self.args.json {
            eprintln!("{header}");
        } else {
            println!("\n{header}");
            let _ = std::io::stdout().flush();
        }
        let mut exp = Experiment {
            id: id.to_string(),
            title: title.to_string(),
            shows: shows.to_string(),
            figures: Vec::new(),
            notes: Vec::new(),
            seconds: 0.0,
            error: None,
        };
        let t0 = Instant::now();
        let result = body(&mut exp);
        exp.seconds = t0.elapsed().as_secs_f64();
        let value = match result {
            Ok(v) => Some(v),
            Err(e) => {
                exp.error = Some(e.to_string());
                None
            }
        };
        if !self.args.json {
            print_experiment(&exp);
        }
        self.report.experiments.push(exp);
        value
    }

    /// Records a claim. Claims are printed together at the end.
    pub fn claim(&mut self, claim: Claim) {
        self.report.claims.push(claim);
    }

    /// Marks a figure as one of the few shown in `cargo xtask run-all`'s summary.
    pub fn headline(&mut self, name: &str, value: f64, unit: &str) {
        self.report.headline.push(Figure::new(name, value, unit));
    }

    /// Prints the claims (or the JSON report) and returns the process's exit code.
    pub fn finish(mut self) -> ExitCode {
        self.report.seconds = self.started.elapsed().as_secs_f64();
        let passed = self.report.passed();
        if self.args.json {
            match serde_json::to_string_pretty(&self.report) {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("error: cannot write the report as JSON: {e}");
                    return ExitCode::FAILURE;
                }
            }
        } else {
            print_claims(&self.report);
        }
        if passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// The report so far (for tests of tours).
    pub fn report(&self) -> &Report {
        &self.report
    }
}

/// Checks that a lesson's tour binary keeps the protocol: `--help` succeeds and names
/// the flags, an unknown flag exits with status 2 naming it, and `--quick --json` prints
/// one schema-1 report for `lesson` with exactly these experiment ids, none failed, and
/// `claims` claims. Every lesson's `tests/tour.rs` calls it; whether the claims *hold* is
/// `cargo xtask run-all`'s job, on a release build run alone.
pub fn check_protocol(
    binary: &std::path::Path,
    lesson: &str,
    experiments: &[&str],
    claims: usize,
) -> Result<(), String> {
    let run = |args: &[&str]| {
        std::process::Command::new(binary)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))
    };
    let help = run(&["--help"])?;
    let text = String::from_utf8_lossy(&help.stdout);
    if !help.status.success() || !text.contains("--quick") || !text.contains("--json") {
        return Err(format!("--help did not succeed with the flags: {text}"));
    }
    let bad = run(&["--no-such-flag"])?;
    if bad.status.code() != Some(2)
        || !String::from_utf8_lossy(&bad.stderr).contains("--no-such-flag")
    {
        return Err(format!(
            "an unknown flag gave {} without naming it",
            bad.status
        ));
    }
    let out = run(&["--quick", "--json"])?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("stdout is not one JSON report ({e})"))?;
    if report["schema"] != SCHEMA || report["lesson"] != lesson || report["quick"] != true {
        return Err(format!(
            "wrong header: schema {}, lesson {}, quick {}",
            report["schema"], report["lesson"], report["quick"]
        ));
    }
    let list = report["experiments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&str> = list.iter().filter_map(|e| e["id"].as_str()).collect();
    if ids != experiments {
        return Err(format!("experiments {ids:?}, expected {experiments:?}"));
    }
    if let Some(e) = list.iter().find(|e| !e["error"].is_null()) {
        return Err(format!(
            "experiment {} could not run: {}",
            e["id"], e["error"]
        ));
    }
    let n = report["claims"].as_array().map_or(0, Vec::len);
    if n != claims {
        return Err(format!("{n} claims, expected {claims}"));
    }
    let progress = String::from_utf8_lossy(&out.stderr);
    let last = format!("[{0}/{0}]", experiments.len());
    if !progress.contains(&last) {
        return Err(format!("no progress line {last} on stderr: {progress}"));
    }
    Ok(())
}

fn print_experiment(exp: &Experiment) {
    for line in textwrap(&exp.shows, 88) {
        println!("  {line}");
    }
    let width = exp.figures.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &exp.figures {
        println!("    {:<width$}  {}", f.name, f.text);
    }
    for note in &exp.notes {
        println!("    {note}");
    }
    if let Some(err) = &exp.error {
        println!("  ERROR: {err}");
    }
}

fn print_claims(report: &Report) {
    println!("\nClaims");
    for c in &report.claims {
        let mark = match c.verdict {
            Verdict::Held => "held  ",
            Verdict::Failed => "FAILED",
        };
        println!("  {mark} {}: {}", c.statement, c.decided_by);
    }
    let held = report
        .claims
        .iter()
        .filter(|c| c.verdict == Verdict::Held)
        .count();
    let broken = report
        .experiments
        .iter()
        .filter(|e| e.error.is_some())
        .count();
    println!(
        "\n{held}/{} claims held, {broken} experiment(s) could not run, in {:.1} s",
        report.claims.len(),
        report.seconds
    );
}

/// Formats a value with its unit the way a person reads it: 3 significant digits,
/// thousands separated, binary units for bytes.
pub fn fmt_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return format!("{value} {unit}");
    }
    match unit {
        "bytes" => fmt_bytes(value),
        "" => fmt_number(value),
        "x" => fmt_ratio(value),
        _ => format!("{} {unit}", fmt_number(value)),
    }
}

/// "14.6x"
pub fn fmt_ratio(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{}x", fmt_number(ratio))
    } else {
        "n/a".to_string()
    }
}

/// 3 significant digits below 1,000; whole numbers with separators above.
pub fn fmt_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        let whole = v.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if whole < 0 {
            out.insert(0, '-');
        }
        out
    } else if a >= 100.0 || a == 0.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// "512 MiB", "9.8 KiB": sizes in powers of two, as the kernel counts them.
pub fn fmt_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{} {}", fmt_number(v), UNITS[unit])
}

fn textwrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_claim_holds_and_fails_on_the_threshold() {
        let big = Figure::new("a", 30.0, "µs");
        let small = Figure::new("b", 10.0, "µs");
        let c = Claim::ratio_at_least("r", "a is 3x b", big.clone(), small.clone(), 3.0);
        assert_eq!(c.verdict, Verdict::Held);
        assert!(c.decided_by.contains("= 3x"), "{}", c.decided_by);
        let c = Claim::ratio_at_least("r", "a is 3.1x b", big, small, 3.1);
        assert_eq!(c.verdict, Verdict::Failed);
    }

    #[test]
    fn ratio_claim_with_zero_denominator_fails() {
        let c = Claim::ratio_at_least(
            "r",
            "x",
            Figure::new("a", 1.0, "s"),
            Figure::new("b", 0.0, "s"),
            1.0,
        );
        assert_eq!(c.verdict, Verdict::Failed);
        assert!(c.decided_by.contains("n/a"));
    }

    #[test]
    fn numbers_read_like_a_person_writes_them() {
        assert_eq!(fmt_number(1234567.0), "1,234,567");
        assert_eq!(fmt_number(-1234.4), "-1,234");
        assert_eq!(fmt_number(485.2), "485");
        assert_eq!(fmt_number(14.63), "14.6");
        assert_eq!(fmt_number(9.126), "9.13");
        assert_eq!(fmt_number(0.01234), "0.012");
        assert_eq!(fmt_bytes(512.0 * 1024.0 * 1024.0), "512 MiB");
        assert_eq!(fmt_bytes(10035.0), "9.80 KiB");
        assert_eq!(fmt_value(3.0, "x"), "3x");
    }

    #[test]
    fn args_parse_flags_help_and_rejects_unknown() {
        let parse = |v: &[&str]| TourArgs::parse("t", "about", v.iter().map(|s| s.to_string()));
        assert_eq!(
            parse(&["--quick", "--json"]),
            Parsed::Run(TourArgs {
                json: true,
                quick: true
            })
        );
        assert!(matches!(parse(&["--help"]), Parsed::Help(h) if h.contains("--quick")));
        assert!(matches!(parse(&["--fast"]), Parsed::Bad(m) if m.contains("`--fast`")));
    }

    #[test]
    fn a_failed_experiment_or_claim_fails_the_report() {
        let mut tour = Tour::start(
            "t",
            "test",
            TourArgs {
                json: true,
                quick: true,
            },
            2,
        );
        let v = tour.experiment("ok", "ok", "works", |e| {
            e.figure("x", 1.0, "s");
            Ok::<_, String>(7)
        });
        assert_eq!(v, Some(7));
        assert!(tour.report().passed());
        let v: Option<()> = tour.experiment("bad", "bad", "breaks", |_| Err("boom"));
        assert_eq!(v, None);
        assert!(!tour.report().passed());
        assert_eq!(tour.report().experiments[1].error.as_deref(), Some("boom"));
    }

    #[test]
    fn the_json_report_has_the_documented_fields() {
        let mut tour = Tour::start("t", "test", TourArgs::default(), 0);
        tour.claim(Claim::check("c", "s", true, "d", vec![]));
        tour.headline("fork", 549.2, "µs");
        let json = serde_json::to_value(tour.report()).unwrap();
        assert_eq!(json["headline"][0]["text"], "549 µs");
        for key in [
            "schema",
            "lesson",
            "title",
            "quick",
            "seconds",
            "host",
            "experiments",
            "claims",
            "headline",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["claims"][0]["verdict"], "held");
        assert_eq!(json["schema"], SCHEMA);
    }
}
