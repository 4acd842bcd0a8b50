//! The tour binary keeps its protocol: `--help`, bad flags, and the JSON report's shape.
//! (Whether the claims hold is checked by `cargo xtask run-all`, on a release build run
//! alone, not here among parallel tests on a debug build.)

use std::process::Command;

fn tour(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_procs"))
        .args(args)
        .output()
        .expect("the tour binary runs")
}

#[test]
fn help_explains_the_flags_and_succeeds() {
    let out = tour(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--quick") && text.contains("--json"),
        "{text}"
    );
}

#[test]
fn an_unknown_flag_is_refused_with_status_2() {
    let out = tour(&["--fast"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fast"));
}

#[test]
fn json_report_lists_every_experiment_and_claim() {
    let out = tour(&["--quick", "--json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON report");
    assert_eq!(report["schema"], 1);
    assert_eq!(report["lesson"], "procs");
    assert_eq!(report["quick"], true);
    let experiments = report["experiments"].as_array().unwrap();
    let ids: Vec<&str> = experiments
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "tree",
            "fork-copies",
            "spawn-cost",
            "lazy-memory",
            "fork-memory",
            "copy-on-write",
            "zombie"
        ]
    );
    for e in experiments {
        assert!(e["error"].is_null(), "experiment failed: {e}");
        assert!(
            !e["figures"].as_array().unwrap().is_empty(),
            "no figures: {e}"
        );
    }
    assert_eq!(report["claims"].as_array().unwrap().len(), 10);
    assert!(report["host"]["cores"].as_u64().unwrap() >= 1);
    // Progress went to stderr, one line per experiment.
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("[7/7] Zombies"), "{progress}");
}
