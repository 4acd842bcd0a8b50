//! The flags every tour takes (`--quick`, `--json`, and `--falsify` with its
//! `--reference`), read by one small parser that all five lessons share, so that every
//! tour answers `--help` and a wrong flag alike.

/// Command-line options shared by every tour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TourArgs {
    /// Print the report as JSON on stdout (progress goes to stderr).
    pub json: bool,
    /// Smaller sizes and fewer trials, for CI.
    pub quick: bool,
    /// Run no experiment: decide every claim on its wrong world (and on `reference`).
    pub falsify: bool,
    /// With `falsify`: a JSON report of an earlier run, whose figures decide the claims
    /// again.
    pub reference: Option<std::path::PathBuf>,
    /// Also write the JSON report as `<lesson>.json` into this folder (and whatever else
    /// the book shows from this run): `cargo xtask book --record` uses it.
    pub record: Option<std::path::PathBuf>,
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
            "{about}\n\nUsage: {program} [--quick] [--json]\n       \
             {program} --falsify [--reference REPORT.json] [--json]\n\n\
             Options:\n  \
             --quick      smaller sizes and fewer trials (for CI; a few seconds)\n  \
             --json       print the report as JSON on stdout, progress on stderr\n  \
             --falsify    run no experiment: decide every claim on its wrong world (the \
             figures a\n               wrong implementation would give); each must fail\n  \
             --reference REPORT.json\n               with --falsify: also decide each \
             claim again on that run's figures\n  \
             --record DIR  also write the JSON report as DIR/<lesson>.json (the book's \
             record)\n  \
             -h, --help   print this help\n\n\
             A claim is held, failed, or too close to call (the difference is inside the \
             noise\nmeasured in this run). Exits with status 1 when a claim fails or an \
             experiment cannot run;\nwith --falsify, when a claim does not fail on its \
             wrong world."
        );
        let mut parsed = TourArgs::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--json" => parsed.json = true,
                "--quick" => parsed.quick = true,
                "--falsify" => parsed.falsify = true,
                "--record" => match args.next() {
                    Some(dir) => parsed.record = Some(dir.into()),
                    None => {
                        return Parsed::Bad(format!("error: `--record` needs a folder\n\n{usage}"));
                    }
                },
                "--reference" => match args.next() {
                    Some(path) => parsed.reference = Some(path.into()),
                    None => {
                        return Parsed::Bad(format!(
                            "error: `--reference` needs a report file\n\n{usage}"
                        ));
                    }
                },
                "-h" | "--help" => return Parsed::Help(usage),
                other => {
                    return Parsed::Bad(format!("error: unknown argument `{other}`\n\n{usage}"));
                }
            }
        }
        if parsed.reference.is_some() && !parsed.falsify {
            return Parsed::Bad(format!(
                "error: `--reference` goes with `--falsify`\n\n{usage}"
            ));
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
