//! The tour binary keeps its protocol: `--help`, bad flags, and the JSON report's shape.
//! (Whether the claims hold is checked by `cargo xtask run-all`, on a release build run
//! alone, not here among parallel tests on a debug build.)

use std::process::Command;

fn tour(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_threads"))
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
    let out = tour(&["--slow"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--slow"));
}

#[test]
fn the_limit_child_reports_a_refusal() {
    // The hidden mode the tour uses for its limit experiment: 8 MiB of room fits a few
    // 2 MiB stacks, not 50.
    let out = tour(&["--demo-thread-limit", "50", "8388608"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let demo = threads::limit::LimitDemo::from_lines(&text);
    match demo {
        Some(d) => assert!(d.started < 50 && d.error.is_some(), "{d:?}"),
        None => assert!(!out.status.success(), "no report and no failure: {text}"),
    }
}

#[test]
fn json_report_lists_every_experiment() {
    let out = tour(&["--quick", "--json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON report");
    assert_eq!(report["schema"], 1);
    assert_eq!(report["lesson"], "threads");
    let ids: Vec<&str> = report["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "start-cost",
            "idle-memory",
            "limit",
            "time-slicing",
            "waiting",
            "sharing",
            "pool"
        ]
    );
    for e in report["experiments"].as_array().unwrap() {
        assert!(e["error"].is_null(), "experiment failed: {e}");
    }
    assert_eq!(report["claims"].as_array().unwrap().len(), 13);
}
