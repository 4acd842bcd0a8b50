//! Step 1 of grading: building a lesson's test binaries once, and reading from cargo
//! where they are, or which compiler errors kept them from being built.

use super::*;

/// Why a lesson's graded tests were not built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("could not start cargo: {0}")]
    Spawn(std::io::Error),
    /// What the compiler said, its errors only.
    #[error("{0}")]
    Compile(String),
}

/// A silent build gets a "still compiling" line this often.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(30);

/// How many lines of compiler errors an exercise's result keeps: the first errors are
/// the ones to fix first (later ones often follow from them).
pub(crate) const COMPILE_ERROR_LINES: usize = 40;

/// What one build made: each test executable by name (see [`executables`]), and for
/// each package that did not compile, the compiler's errors.
#[derive(Debug, Default)]
pub struct Built {
    pub bins: HashMap<String, PathBuf>,
    /// Each test executable's package folder, by the same name: where `cargo test`
    /// would run it.
    pub dirs: HashMap<String, PathBuf>,
    /// Package name -> its compiler errors.
    pub failed: BTreeMap<String, String>,
}

// ANCHOR: build
/// Builds the test targets of `packages` (`targets`, or every test binary of each when
/// `None`) in one cargo run that goes on past a package that does not compile
/// (`cargo build --keep-going`), so that one exercise's mistake never keeps another's
/// tests from being built. (`cargo test --no-run` makes the same binaries, but stops
/// starting new crates at the first error, and takes no `--keep-going`.) `Err` only
/// when cargo could not run at all, or failed with no compiler error to show for it (a
/// broken manifest).
pub fn build(
    root: &Path,
    scope: &str,
    packages: &[String],
    targets: Option<&[&str]>,
    settings: &Settings,
    say: &mut Say<'_>,
) -> Result<Built, BuildError> {
    let mut command = Command::new(workspace::cargo());
    command
        .current_dir(root)
        .args(["build", "--keep-going", "--message-format=json"]);
    for package in packages {
        command.args(["-p", package]);
    }
    match targets {
        // Every test target (unit tests, tests/*.rs), built as `cargo test` builds them.
        None => {
            command.arg("--tests");
        }
        Some(targets) => {
            for target in targets {
                command.args(["--test", target]);
            }
        }
    }
    // ANCHOR_END: build
    if let Some(dir) = &settings.target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    if settings.one_job {
        command.arg("-j1");
    }
    if settings.lean_build {
        command
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("CARGO_PROFILE_TEST_DEBUG", "0");
    }
    let scope = format!("{scope} · build");
    let mut filter = LineFilter::new(StepKind::Test);
    let started = Instant::now();
    let out = child::run(&mut command, &mut |seen| match seen {
        // Stdout carries the JSON messages, read once cargo is done.
        Seen::Line(Stream::Stderr, line) => {
            if let Some(text) = filter.show(Stream::Stderr, line, Instant::now()) {
                say.line(&scope, &text);
            }
        }
        Seen::Line(Stream::Stdout, _) => {}
        Seen::Quiet => {
            if say.quiet_for() >= HEARTBEAT {
                let so_far = duration(started.elapsed().as_secs_f64());
                say.line(&scope, &format!("still compiling ({so_far} so far)"));
            }
        }
    })
    .map_err(BuildError::Spawn)?;
    let took = duration(out.seconds);
    let failed = errors_by_package(&out.stdout);
    if !out.success() && failed.is_empty() {
        say.line(&scope, &format!("FAILED: cargo failed ({took})"));
        return Err(BuildError::Compile(compile_errors(&out.stderr)));
    }
    for package in failed.keys() {
        say.line(&scope, &format!("FAILED: {package} does not compile"));
    }
    let bins = executables(&out.stdout);
    let binaries = if bins.len() == 1 {
        "binary"
    } else {
        "binaries"
    };
    say.line(
        &scope,
        &format!("ok: {} test {binaries} ({took})", bins.len()),
    );
    let dirs = package_dirs(&out.stdout);
    Ok(Built { bins, dirs, failed })
}

/// Each test executable's package folder (the folder of its `Cargo.toml`), by the name
/// [`executables`] gives it.
pub(crate) fn package_dirs(cargo_stdout: &str) -> HashMap<String, PathBuf> {
    let mut found = HashMap::new();
    for line in cargo_stdout.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
            continue;
        }
        let target = &message["target"];
        let (Some(kind), Some(name), Some(manifest)) = (
            target["kind"][0].as_str(),
            target["name"].as_str(),
            message["manifest_path"].as_str(),
        ) else {
            continue;
        };
        let key = if kind == "test" {
            name.to_string()
        } else {
            format!("{kind} {name}")
        };
        if let Some(dir) = Path::new(manifest).parent() {
            found.insert(key, dir.to_path_buf());
        }
    }
    found
}

/// The compiler's errors in cargo's JSON messages, by the package they are in.
pub(crate) fn errors_by_package(cargo_stdout: &str) -> BTreeMap<String, String> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in cargo_stdout.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" || message["message"]["level"] != "error" {
            continue;
        }
        let (Some(id), Some(rendered)) = (
            message["package_id"].as_str(),
            message["message"]["rendered"].as_str(),
        ) else {
            continue;
        };
        // The same error comes once per target that compiles the file (the library and
        // its unit tests): show it once.
        let errors = found.entry(package_name(id)).or_default();
        let rendered = rendered.trim_end();
        if !errors.iter().any(|e| e == rendered) {
            errors.push(rendered.to_string());
        }
    }
    found
        .into_iter()
        .map(|(package, errors)| (package, shorten_errors(&errors.join("\n"))))
        .collect()
}

/// A package's name from its id: `path+file:///w/crates/procs/exercises/capture#procs-capture@0.1.0`
/// gives `procs-capture`; `path+file:///w/crates/procs#0.1.0` (the name is the folder's)
/// gives `procs`.
fn package_name(id: &str) -> String {
    let (path, fragment) = id.rsplit_once('#').unwrap_or((id, ""));
    match fragment.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => path.rsplit('/').next().unwrap_or(path).to_string(),
    }
}

/// At most [`COMPILE_ERROR_LINES`] lines of errors, and how many more there were.
fn shorten_errors(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = lines[..lines.len().min(COMPILE_ERROR_LINES)].join("\n");
    if lines.len() > COMPILE_ERROR_LINES {
        kept.push_str(&format!(
            "\n... ({} more lines: `cargo build --tests` shows them all)",
            lines.len() - COMPILE_ERROR_LINES
        ));
    }
    kept
}

/// Reads cargo's JSON messages: each test executable cargo built, by name: a file in
/// tests/ by its target name (`exercise_capture`), unit tests by kind and name
/// (`lib procs`, `bin tour`).
pub(crate) fn executables(cargo_stdout: &str) -> HashMap<String, PathBuf> {
    let mut found = HashMap::new();
    for line in cargo_stdout.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        // An example is built by `cargo test` too, but as a program, not as tests.
        if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
            continue;
        }
        let target = &message["target"];
        let (Some(kind), Some(name), Some(exe)) = (
            target["kind"][0].as_str(),
            target["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue;
        };
        let key = if kind == "test" {
            name.to_string()
        } else {
            format!("{kind} {name}")
        };
        found.insert(key, PathBuf::from(exe));
    }
    found
}

/// The compiler's errors from cargo's stderr, without the warnings (an unfinished
/// exercise often has many, and they hide the error) and cargo's status lines.
pub(crate) fn compile_errors(stderr: &str) -> String {
    let mut kept = Vec::new();
    let mut in_error = false;
    for line in stderr.lines() {
        if line.starts_with("error") {
            in_error = true;
        } else if line.starts_with("warning") || is_cargo_status(line) {
            in_error = false;
            continue;
        }
        if in_error {
            kept.push(line);
        }
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    if kept.is_empty() {
        // Not a compiler error (a broken manifest, a missing toolchain): show the end.
        let lines: Vec<&str> = stderr.lines().collect();
        kept = lines[lines.len().saturating_sub(20)..].to_vec();
    }
    let mut text = kept
        .iter()
        .take(COMPILE_ERROR_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    if kept.len() > COMPILE_ERROR_LINES {
        text.push_str(&format!(
            "\n... ({} more lines: `cargo build --tests` shows them all)",
            kept.len() - COMPILE_ERROR_LINES
        ));
    }
    text
}

/// `   Compiling procs v0.1.0 (...)`, `    Finished ...`: cargo reporting, not the compiler.
pub(crate) fn is_cargo_status(line: &str) -> bool {
    let words = [
        "Compiling",
        "Checking",
        "Finished",
        "Executable",
        "Blocking",
        "Updating",
        "Downloading",
        "Downloaded",
        "Locking",
        "Adding",
        "Fresh",
    ];
    line.starts_with(' ') && words.iter().any(|w| line.trim_start().starts_with(w))
}
