//! `--falsify` (every claim decided on its wrong world, and on a recorded run's figures)
//! and the check that a lesson's tour keeps the protocol.

use serde::Deserialize;

use super::*;

/// Checks the parts of a lesson's tour protocol that need no experiment: `--help`
/// succeeds and names the flags, an unknown flag exits with status 2 naming it, and
/// `--falsify --json` fails every claim of `declared` on its wrong world. Every lesson's
/// `tests/tour.rs` calls it. What a run must do (every planned experiment, every
/// declared claim in order) the tour checks itself ([`Tour::keep_protocol`]), in the
/// run `cargo xtask run-all` makes; whether the claims *hold* is decided there too.
pub fn check_protocol(binary: &std::path::Path, declared: &[ClaimDef]) -> crate::Result<()> {
    let run = |args: &[&str]| {
        std::process::Command::new(binary)
            .args(args)
            .output()
            .map_err(|e| broken(format!("cannot run {}: {e}", binary.display())))
    };
    let help = run(&["--help"])?;
    let text = String::from_utf8_lossy(&help.stdout);
    if !help.status.success() || !text.contains("--quick") || !text.contains("--json") {
        return Err(broken(format!(
            "--help did not succeed with the flags: {text}"
        )));
    }
    let bad = run(&["--no-such-flag"])?;
    if bad.status.code() != Some(2)
        || !String::from_utf8_lossy(&bad.stderr).contains("--no-such-flag")
    {
        return Err(broken(format!(
            "an unknown flag gave {} without naming it",
            bad.status
        )));
    }
    let falsified = run(&["--falsify", "--json"])?;
    let found: serde_json::Value = serde_json::from_slice(&falsified.stdout)
        .map_err(|e| broken(format!("--falsify --json printed no JSON ({e})")))?;
    let list = found["claims"].as_array().cloned().unwrap_or_default();
    if !falsified.status.success() || list.len() != declared.len() {
        return Err(broken(format!(
            "--falsify: {} (exit {}), {} of {} claims decided",
            String::from_utf8_lossy(&falsified.stdout),
            falsified.status,
            list.len(),
            declared.len()
        )));
    }
    Ok(())
}

/// A tour that does not keep the protocol: what it did instead.
fn broken(reason: String) -> crate::Error {
    crate::Error::Invalid {
        what: "tour protocol",
        reason,
    }
}

/// `--falsify`: decides every claim of `claims` on its wrong world, and on the figures of
/// the `--reference` report when given; prints a table (or JSON) and returns the exit
/// code: success only when every claim fails on its wrong world.
pub fn falsify(lesson: &str, claims: &[ClaimDef], args: &TourArgs) -> ExitCode {
    let reference: Option<Vec<Claim>> = match &args.reference {
        None => None,
        Some(path) => match read_claims(path) {
            Ok(claims) => Some(claims),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(crate::exit::Exit::Usage);
            }
        },
    };
    let found = crate::claim::falsify(claims, reference.as_deref());
    let repeated = crate::claim::duplicate_ids(claims);
    let survivors = found
        .iter()
        .filter(|f| f.on_wrong_world.verdict != Verdict::Failed)
        .count();
    if args.json {
        let report = serde_json::json!({
            "schema": SCHEMA,
            "lesson": lesson,
            "claims": found,
            "repeated_ids": repeated,
        });
        println!("{report:#}");
    } else {
        println!("{lesson}: every claim on its wrong world\n");
        for f in &found {
            println!(
                "  {:<24} wrong world: {}\n  {:<24}   -> {}: {}",
                f.id, f.wrong, "", f.on_wrong_world.verdict, f.on_wrong_world.decided_by
            );
            if let Some(again) = &f.on_reference {
                println!(
                    "  {:<24}   reference run: {} (recorded: {})",
                    "",
                    again.verdict,
                    f.recorded.map_or("?", Verdict::word)
                );
            }
        }
        println!(
            "\n{} of {} claims fail on their wrong world",
            found.len() - survivors,
            found.len()
        );
        for id in &repeated {
            println!("error: claim id `{id}` is declared twice");
        }
    }
    if survivors == 0 && repeated.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The claims of a tour's JSON report.
pub fn read_claims(path: &std::path::Path) -> crate::Result<Vec<Claim>> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Invalid {
        what: "reference report",
        reason: format!("cannot read {}: {e}", path.display()),
    })?;
    #[derive(Deserialize)]
    struct Claims {
        claims: Vec<Claim>,
    }
    serde_json::from_str::<Claims>(&text)
        .map(|r| r.claims)
        .map_err(|e| crate::Error::Invalid {
            what: "reference report",
            reason: format!("{} is not a tour's JSON report: {e}", path.display()),
        })
}
