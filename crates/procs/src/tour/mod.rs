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
//!   "host": { "os", "kernel", "arch", "cores", "cpu", "rustc", "git_revision",
//!             "load_average", "busy_before", "warning": null | "..." },
//!   "experiments": [ { "id", "title", "shows", "seconds", "error": null | "...",
//!                      "figures": [ FIGURE ], "notes": [ "..." ] } ],
//!   "claims": [ { "id", "statement", "verdict": "held" | "failed" | "too close to call",
//!                 "decided_by", "figures": [ FIGURE ] } ],
//!   "headline": [ FIGURE ] }
//!
//! FIGURE = { "name", "value" (null if not measurable), "unit", "text" (e.g. "549 µs"),
//!            "rounds": [ number ] (only for a figure measured in rounds) }
//! ```
//!
//! A claim's figures are exactly what its decision read (see [`crate::claim`]), so the
//! report of a run is enough to decide its claims again: `--falsify --reference FILE`
//! does that, next to deciding each claim on its wrong world.
//!
//! With `--json`, progress (one line per experiment as it starts) goes to stderr and the
//! report to stdout, so a driver can show progress live and still parse the result.

//!
//! The pieces: this module holds the report and the [`Tour`] that fills it; `args` reads
//! the two flags every tour takes; `print` writes the report for a person; `protocol`
//! is `--falsify` and the checks that a tour keeps the protocol.

mod args;
mod print;
mod protocol;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

pub use crate::claim::{Claim, ClaimDef, Inputs, Verdict};
pub use crate::figure::{Figure, fmt_bytes, fmt_number, fmt_ratio, fmt_value};
pub use crate::host::Host;
pub use args::{Parsed, TourArgs};
pub use protocol::{check_protocol, falsify, read_claims};

use print::{print_claims, print_experiment};

/// Version of the JSON layout above; `cargo xtask` refuses reports it does not know.
pub const SCHEMA: u32 = 1;

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
    /// True when every experiment ran and no claim failed. A claim too close to call
    /// is no failure: the machine's noise hid the effect in this run.
    pub fn passed(&self) -> bool {
        self.experiments.iter().all(|e| e.error.is_none())
            && self.claims.iter().all(|c| c.verdict != Verdict::Failed)
    }

    /// How many claims ended with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.claims.iter().filter(|c| c.verdict == verdict).count()
    }
}

/// The id of the claim a tour fails when it breaks its own protocol
/// ([`Tour::keep_protocol`]).
pub const PROTOCOL: &str = "tour-protocol";

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
        let warning = report
            .host
            .warning
            .as_ref()
            .map(|w| format!("warning: {w}"));
        if args.json {
            if let Some(warning) = &warning {
                eprintln!("{warning}");
            }
        } else {
            println!("{lesson}: {title}");
            println!(
                "{}{}",
                report.host.line(),
                if args.quick { " (quick run)" } else { "" }
            );
            if let Some(warning) = &warning {
                println!("{warning}");
            }
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

    /// The folder of the book's record, when this run is recorded (`--record DIR`): a
    /// tour writes there what the book shows from this run besides its report.
    pub fn record_dir(&self) -> Option<&std::path::Path> {
        self.args.record.as_deref()
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

    /// Decides a claim on the figures measured in this run and records it. Claims are
    /// printed together at the end.
    pub fn judge(&mut self, claim: &ClaimDef, inputs: Inputs) {
        self.report.claims.push(claim.judge(inputs));
    }

    /// Marks a figure as one of the few shown in `cargo xtask run-all`'s summary.
    pub fn headline(&mut self, name: &str, value: f64, unit: &str) {
        self.report.headline.push(Figure::new(name, value, unit));
    }

    /// Prints the claims (or the JSON report) and returns the process's exit code.
    /// `declared` is the lesson's list of claims (its `claims::ALL`): the tour must have
    /// made each of them once, in that order, and no other (see [`Tour::keep_protocol`]).
    pub fn finish(mut self, declared: &[ClaimDef]) -> ExitCode {
        self.keep_protocol(declared);
        self.report.seconds = self.started.elapsed().as_secs_f64();
        let passed = self.report.passed();
        if let Some(dir) = &self.args.record {
            let path = dir.join(format!("{}.json", self.report.lesson));
            let written = serde_json::to_string_pretty(&self.report)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    std::fs::create_dir_all(dir)
                        .and_then(|()| std::fs::write(&path, text + "\n"))
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = written {
                eprintln!("error: cannot write the record {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
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

    /// Checks what every run of a tour must do, and records a failed claim
    /// ([`PROTOCOL`]) when it did not: run every experiment it planned, and make every
    /// claim of `declared` once, in order, and no claim that is not declared (an
    /// undeclared claim has no wrong world, so nothing shows that it can fail). A claim
    /// left out because its experiment could not run is no extra failure: the
    /// experiment's error already fails the tour and says why.
    ///
    /// Checked here, in the run that `cargo xtask run-all` makes anyway, rather than by
    /// a test that would run the whole tour a second time.
    pub fn keep_protocol(&mut self, declared: &[ClaimDef]) {
        let mut problems = Vec::new();
        let ran = self.report.experiments.len();
        if ran != self.planned {
            problems.push(format!("{ran} experiments ran, {} planned", self.planned));
        }
        let made: Vec<&str> = self.report.claims.iter().map(|c| c.id.as_str()).collect();
        for id in &made {
            let problem = if !declared.iter().any(|d| d.id == *id) {
                format!("claim `{id}` is not declared in the lesson's claims")
            } else if made.iter().filter(|m| *m == id).count() > 1 {
                format!("claim `{id}` was made more than once")
            } else {
                continue;
            };
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        let all_ran = self.report.experiments.iter().all(|e| e.error.is_none());
        let expected: Vec<&str> = declared.iter().map(|d| d.id).collect();
        if all_ran && problems.is_empty() && made != expected {
            problems.push(format!(
                "claims made {made:?}, declared (in this order) {expected:?}"
            ));
        }
        if !problems.is_empty() {
            self.report.claims.push(Claim {
                id: PROTOCOL.to_string(),
                statement: "the tour runs every experiment it plans and makes every claim it \
                            declares, once, in order"
                    .to_string(),
                verdict: Verdict::Failed,
                decided_by: problems.join("; "),
                figures: Vec::new(),
            });
        }
    }

    /// The report so far (for tests of tours).
    pub fn report(&self) -> &Report {
        &self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_if_positive(
        inputs: &Inputs,
    ) -> Result<crate::claim::Decision, crate::claim::MissingFigure> {
        let x = inputs.get("x")?;
        Ok(crate::claim::Decision::new(
            "x is positive",
            crate::claim::at_least(x, f64::MIN_POSITIVE),
        ))
    }

    const POSITIVE: ClaimDef = ClaimDef {
        id: "positive",
        decide: held_if_positive,
        wrong: "x came out zero",
        wrong_world: || Inputs::new().with("x", 0.0, ""),
    };

    #[test]
    fn a_figure_round_trips_through_json_with_its_rounds_and_a_missing_value() {
        let figures = vec![
            Figure::from_rounds("r", &[3.0, 1.0, 2.0], "µs"),
            Figure::new("n", f64::NAN, "s"),
        ];
        assert_eq!(figures[0].value, 2.0);
        let text = serde_json::to_string(&figures).unwrap();
        assert!(text.contains(r#""rounds":[3.0,1.0,2.0]"#), "{text}");
        assert!(text.contains(r#""value":null"#), "{text}");
        let back: Vec<Figure> = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0], figures[0]);
        assert!(back[1].value.is_nan());
        assert!(!text.contains(r#""n","value":null,"unit":"s","text":"NaN s","rounds""#));
    }

    const OTHER: ClaimDef = ClaimDef {
        id: "other",
        ..POSITIVE
    };

    /// A tour that planned two experiments, ran `ran` of them (the first failing when
    /// `broken`) and made the claims `made`, checked against POSITIVE then OTHER.
    fn protocol(ran: usize, broken: bool, made: &[&ClaimDef]) -> Option<String> {
        let mut tour = Tour::start("t", "test", TourArgs::default(), 2);
        for n in 0..ran {
            let _: Option<()> = tour.experiment("e", "e", "e", |_| match broken && n == 0 {
                true => Err("could not run"),
                false => Ok(()),
            });
        }
        for claim in made {
            tour.judge(claim, Inputs::new().with("x", 1.0, ""));
        }
        tour.keep_protocol(&[POSITIVE, OTHER]);
        let last = tour.report().claims.last()?;
        (last.id == PROTOCOL).then(|| {
            assert_eq!(last.verdict, Verdict::Failed);
            last.decided_by.clone()
        })
    }

    #[test]
    fn a_tour_fails_its_protocol_claim_when_it_skips_or_adds_a_claim_or_an_experiment() {
        assert_eq!(protocol(2, false, &[&POSITIVE, &OTHER]), None);
        let missing = protocol(2, false, &[&POSITIVE]).unwrap();
        assert!(missing.contains(r#"["positive"]"#), "{missing}");
        let swapped = protocol(2, false, &[&OTHER, &POSITIVE]).unwrap();
        assert!(swapped.contains("in this order"), "{swapped}");
        let twice = protocol(2, false, &[&POSITIVE, &OTHER, &OTHER]).unwrap();
        assert_eq!(twice, "claim `other` was made more than once");
        let stranger = ClaimDef {
            id: "stranger",
            ..POSITIVE
        };
        let undeclared = protocol(2, false, &[&POSITIVE, &OTHER, &stranger]).unwrap();
        assert!(
            undeclared.contains("`stranger` is not declared"),
            "{undeclared}"
        );
        let short = protocol(1, false, &[&POSITIVE, &OTHER]).unwrap();
        assert_eq!(short, "1 experiments ran, 2 planned");
        // An experiment that could not run already fails the tour and says why; the
        // claims it could not make are no second failure.
        assert_eq!(protocol(2, true, &[&OTHER]), None);
    }

    #[test]
    fn a_claim_too_close_to_call_does_not_fail_the_report() {
        let mut tour = Tour::start("t", "test", TourArgs::default(), 0);
        tour.judge(&POSITIVE, Inputs::new().with("x", 1.0, ""));
        assert!(tour.report().passed());
        tour.report.claims.push(Claim {
            verdict: Verdict::TooClose,
            ..tour.report.claims[0].clone()
        });
        assert!(tour.report().passed());
        assert_eq!(tour.report().count(Verdict::TooClose), 1);
        tour.judge(&POSITIVE, (POSITIVE.wrong_world)());
        assert!(!tour.report().passed());
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
                quick: true,
                ..TourArgs::default()
            })
        );
        assert_eq!(
            parse(&["--falsify", "--reference", "r.json"]),
            Parsed::Run(TourArgs {
                falsify: true,
                reference: Some("r.json".into()),
                ..TourArgs::default()
            })
        );
        assert!(matches!(parse(&["--help"]), Parsed::Help(h) if h.contains("--falsify")));
        assert!(matches!(parse(&["--fast"]), Parsed::Bad(m) if m.contains("`--fast`")));
        assert!(matches!(parse(&["--reference"]), Parsed::Bad(m) if m.contains("needs")));
        assert!(
            matches!(parse(&["--reference", "r.json"]), Parsed::Bad(m) if m.contains("goes with"))
        );
    }

    #[test]
    fn a_failed_experiment_or_claim_fails_the_report() {
        let mut tour = Tour::start(
            "t",
            "test",
            TourArgs {
                json: true,
                quick: true,
                ..TourArgs::default()
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
        tour.judge(&POSITIVE, Inputs::new().with("x", 1.0, ""));
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
        assert_eq!(json["claims"][0]["figures"][0]["name"], "x");
        for key in ["cpu", "load_average", "busy_before", "warning"] {
            assert!(json["host"].get(key).is_some(), "missing host.{key}");
        }
        assert_eq!(json["schema"], SCHEMA);
    }
}
