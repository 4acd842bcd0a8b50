//! Tests of the grade's sums and of every format it is written in.

use super::*;
use crate::lessons::LESSONS;

fn exercise(name: &str, points: u32) -> Exercise {
    Exercise {
        lesson: &LESSONS[0],
        id: format!("procs/{name}"),
        title: format!("The {name} <exercise> & \"more\""),
        points,
        file: PathBuf::from(format!("crates/procs/src/exercises/{name}.rs")),
        test: format!("exercise_{name}"),
        task: "Do it.".into(),
        hints: vec!["Think.".into()],
        declared_at: "crates/procs/exercises.toml:1".into(),
        mutants: Vec::new(),
    }
}

fn test(name: &str, status: Status, message: &str, output: &str) -> TestOutcome {
    TestOutcome {
        name: name.into(),
        status,
        message: message.into(),
        output: output.into(),
        seconds: 0.25,
        left_running: Vec::new(),
    }
}

/// Two passing tests and one failing (with every character XML and JSON find
/// awkward), and an exercise whose lesson did not compile.
fn sample() -> Grade {
    let nasty = "assertion `left == right` failed: <tag> & \"quote\" 'apos' \u{7}bell\n  left: 1\n right: 2";
    Grade {
        exercises: vec![
            ExerciseResult {
                exercise: exercise("reap", 10),
                tests: vec![
                    test("first", Status::Pass, "", ""),
                    test("second", Status::Pass, "", "printed\n"),
                    test("third", Status::Fail, nasty, &"x".repeat(2000)),
                ],
                points: 10.0 * 2.0 / 3.0,
                error: None,
            },
            ExerciseResult {
                exercise: exercise("capture", 15),
                tests: vec![test("only", Status::Error, "not run", "")],
                points: 0.0,
                error: Some("error[E0308]: mismatched types".into()),
            },
        ],
    }
}

#[test]
fn points_are_shown_with_at_most_one_decimal() {
    assert_eq!(show_points(10.0), "10");
    assert_eq!(show_points(10.0 * 2.0 / 3.0), "6.7");
    assert_eq!(show_points(7.5), "7.5");
    assert_eq!(show_points(0.0), "0");
}

#[test]
fn the_json_has_every_exercism_v3_field_with_its_type() {
    let grade = sample();
    let doc = to_json(&grade);
    assert_eq!(doc["version"], 3);
    // Some tests ran: `fail`, even though one lesson did not compile (its test is an
    // `error` of its own). `error` is for a run where no test ran at all.
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["message"], Value::Null);
    let tests = doc["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 4);
    for t in tests {
        assert!(t["name"].is_string(), "{t}");
        assert!(
            ["pass", "fail", "error"].contains(&t["status"].as_str().unwrap()),
            "{t}"
        );
        assert!(t["message"].is_string() || t["message"].is_null(), "{t}");
        assert!(t["output"].is_string() || t["output"].is_null(), "{t}");
        if let Some(output) = t["output"].as_str() {
            assert!(output.chars().count() <= 500, "{t}");
            if output.starts_with("xxx") {
                // The 2,000 characters of the failing test, cut as the spec says.
                assert!(
                    output.ends_with("\nOutput was truncated. Please limit to 500 chars"),
                    "{t}"
                );
            }
        }
        assert!(t["test_code"].is_string(), "{t}");
        assert!(t["task_id"].as_u64().is_some_and(|id| id >= 1), "{t}");
    }
    assert_eq!(tests[0]["name"], "procs/reap: first");
    assert_eq!(tests[0]["message"], Value::Null);
    assert_eq!(tests[2]["status"], "fail");
    assert!(tests[2]["message"].as_str().unwrap().contains("left: 1"));
    // Each exercise's number in its lesson's exercises.toml.
    let procs = crate::registry::load_lesson(&crate::workspace::root(), &LESSONS[0]).unwrap();
    let number = |id: &str| procs.iter().position(|e| e.id == id).unwrap() + 1;
    assert_eq!(tests[0]["task_id"], number("procs/reap"));
    assert_eq!(tests[3]["task_id"], number("procs/capture"));

    let exercises = doc["exercises"].as_array().unwrap();
    assert_eq!(exercises.len(), 2);
    for (key, check) in [
        ("id", Value::is_string as fn(&Value) -> bool),
        ("title", Value::is_string),
        ("points", Value::is_number),
        ("max_points", Value::is_u64),
        ("passed", Value::is_u64),
        ("total", Value::is_u64),
        ("status", Value::is_string),
    ] {
        assert!(exercises.iter().all(|e| check(&e[key])), "{key}");
    }
    assert_eq!(exercises[0]["points"], 6.67);
    assert_eq!(exercises[0]["status"], "fail");
    assert_eq!(exercises[1]["status"], "error");
    let sum: f64 = exercises
        .iter()
        .map(|e| e["points"].as_f64().unwrap())
        .sum();
    assert!((doc["points"].as_f64().unwrap() - sum).abs() < 1e-9);
    assert_eq!(doc["max_points"], 25);
    // It must survive a round trip as text.
    let text = serde_json::to_string(&doc).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
}

#[test]
fn the_status_is_error_only_when_no_test_ran() {
    let mut grade = sample();
    grade.exercises.remove(0);
    let doc = to_json(&grade);
    assert_eq!(doc["status"], "error");
    assert!(doc["message"].as_str().unwrap().contains("E0308"), "{doc}");
}

#[test]
fn tests_keep_the_order_of_the_file_and_carry_their_code() {
    let source = r#"use x;

#[test]
fn zebra_comes_first() {
    let s = "a } in a string";
    assert_eq!(s.len(), 15);
}

fn helper() {}

#[test]
fn apple_comes_second() {
    if true {
        assert!('}' != '{');
    }
}
"#;
    let listed = vec![
        "apple_comes_second".to_string(),
        "not_in_the_file".to_string(),
        "zebra_comes_first".to_string(),
    ];
    assert_eq!(
        in_file_order(listed, source),
        ["zebra_comes_first", "apple_comes_second", "not_in_the_file"]
    );
    let bodies = test_bodies(source);
    assert_eq!(
        bodies["zebra_comes_first"],
        "let s = \"a } in a string\";\nassert_eq!(s.len(), 15);"
    );
    assert_eq!(
        bodies["apple_comes_second"],
        "if true {\n    assert!('}' != '{');\n}"
    );
    assert_eq!(bodies.len(), 2);
}

#[test]
fn a_grade_without_errors_is_fail_or_pass_with_no_message() {
    let mut grade = sample();
    grade.exercises.pop();
    let doc = to_json(&grade);
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["message"], Value::Null);
    grade.exercises[0].tests.pop();
    assert_eq!(to_json(&grade)["status"], "pass");
    assert!(grade.passed());
    assert!(!Grade::default().passed());
    assert_eq!(to_json(&Grade::default())["status"], "error");
}

/// A small XML checker: every tag is closed in order, every `&` starts an entity,
/// no control character other than tab and newlines appears.
fn check_xml(xml: &str) -> Vec<(String, String)> {
    let mut stack: Vec<String> = Vec::new();
    let mut opened = Vec::new();
    let mut rest = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .unwrap();
    for c in rest.chars() {
        assert!(
            !c.is_control() || "\t\n\r".contains(c),
            "control char {c:?}"
        );
    }
    for (i, _) in rest.match_indices('&') {
        let entity = &rest[i..rest[i..].find(';').map_or(rest.len(), |e| i + e + 1)];
        assert!(
            [
                "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#10;", "&#13;", "&#9;"
            ]
            .contains(&entity),
            "bad entity {entity:?}"
        );
    }
    while let Some(start) = rest.find('<') {
        let end = start + rest[start..].find('>').unwrap();
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "unescaped < in {tag:?}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
        } else {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
            opened.push((name.to_string(), tag.to_string()));
            if !tag.ends_with('/') {
                stack.push(name.to_string());
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    opened
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let len = tag[start..].find('"').unwrap();
    &tag[start..start + len]
}

#[test]
fn the_junit_xml_is_well_formed_and_its_counts_match() {
    let xml = to_junit(&sample());
    let tags = check_xml(&xml);
    let named = |n: &str| tags.iter().filter(|(t, _)| t == n).collect::<Vec<_>>();
    let suites = named("testsuites");
    assert_eq!(suites.len(), 1);
    let top = &suites[0].1;
    assert_eq!(attr(top, "tests"), "4");
    assert_eq!(attr(top, "failures"), "1");
    assert_eq!(attr(top, "errors"), "1");
    assert_eq!(named("testcase").len(), 4);
    assert_eq!(named("failure").len(), 1);
    assert_eq!(named("error").len(), 1);
    let suite = &named("testsuite")[0].1;
    assert_eq!(attr(suite, "name"), "procs/reap");
    assert_eq!(attr(suite, "tests"), "3");
    assert_eq!(attr(suite, "failures"), "1");
    let failure = &named("failure")[0].1;
    assert_eq!(
        attr(failure, "message"),
        "assertion `left == right` failed: &lt;tag&gt; &amp; &quot;quote&quot; &apos;apos&apos; bell"
    );
    assert!(xml.contains("  left: 1\n right: 2"));
    assert!(!xml.contains('\u{7}'));
    assert!(xml.contains("error[E0308]: mismatched types"));
}

#[test]
fn the_markdown_summary_has_a_row_per_exercise_and_the_failures() {
    let md = to_markdown(&sample());
    assert!(md.starts_with("## Exercises: 6.7 / 25 points"), "{md}");
    assert!(md.contains("| `procs/reap` |"), "{md}");
    assert!(md.contains("| 2/3 | 6.7 / 10 |"), "{md}");
    assert!(md.contains("**`procs/reap`** · `third`"), "{md}");
    assert!(md.contains("did not build"), "{md}");
    assert_eq!(fenced("a ``` b"), "````text\na ``` b\n````");
}

#[test]
fn the_text_report_totals_each_lesson_and_lists_the_failures() {
    let grade = sample();
    let text = report(&grade);
    assert!(text.contains("Lesson 1 · procs"), "{text}");
    let row = |first: &str| -> Vec<&str> {
        let line = text.lines().find(|l| l.trim_start().starts_with(first));
        line.unwrap_or_else(|| panic!("no row {first} in\n{text}"))
            .split_whitespace()
            .collect()
    };
    assert!(row("procs/reap").ends_with(&["2/3", "6.7/10", "FAIL"]));
    assert!(row("procs/capture").ends_with(&["ERROR", "(did", "not", "build)"]));
    assert_eq!(row("total"), ["total", "2/4", "6.7/25"]);
    assert!(text.ends_with("FAILED: 6.7 of 25 points (27%), 2 of 4 graded tests passed."));
    let failures = failures(&grade).unwrap();
    assert!(
        failures.contains("procs/reap · third\n    assertion"),
        "{failures}"
    );
    assert!(
        failures.contains("procs/capture: did not build\n    error[E0308]"),
        "{failures}"
    );
}

#[test]
fn cargo_artifacts_give_the_test_executables() {
    // The bin `procs` as a program (profile.test false) is no test binary; its unit
    // tests are.
    let stdout = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"procs"},"profile":{"test":false},"executable":null}
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"procs"},"profile":{"test":false},"executable":"/t/debug/procs"}
{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"procs"},"profile":{"test":true},"executable":"/t/debug/deps/procs-9a"}
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"tour"},"profile":{"test":true},"executable":"/t/debug/deps/tour-77"}
{"reason":"compiler-artifact","target":{"kind":["test"],"name":"exercise_reap"},"profile":{"test":true},"executable":"/t/debug/deps/exercise_reap-1f2e"}
{"reason":"build-finished","success":true}"#;
    let found = executables(stdout);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(
        found["exercise_reap"],
        PathBuf::from("/t/debug/deps/exercise_reap-1f2e")
    );
    assert_eq!(found["lib procs"], PathBuf::from("/t/debug/deps/procs-9a"));
    assert_eq!(found["bin tour"], PathBuf::from("/t/debug/deps/tour-77"));
}

#[test]
fn compile_errors_keep_the_errors_and_drop_warnings_and_status_lines() {
    let stderr = "   Compiling procs v0.1.0 (/w/crates/procs)
warning: unused variable: `x`
 --> crates/procs/src/exercises/reap.rs:3:9
  |
3 |     let x = 1;
  |         ^

error[E0308]: mismatched types
 --> crates/procs/src/exercises/reap.rs:5:5
  |
5 |     1
  |     ^ expected `Result`, found integer

error: could not compile `procs` (lib) due to 1 previous error; 1 warning emitted
";
    assert_eq!(
        compile_errors(stderr),
        "error[E0308]: mismatched types
 --> crates/procs/src/exercises/reap.rs:5:5
  |
5 |     1
  |     ^ expected `Result`, found integer

error: could not compile `procs` (lib) due to 1 previous error; 1 warning emitted"
    );
}

#[test]
fn the_tests_of_a_file_that_does_not_compile_are_found_by_name() {
    let source = "use x;\n\n#[test]\nfn first() {}\n\nfn helper() {}\n\n#[test]\n#[should_panic]\npub fn second_one() {}\n";
    assert_eq!(declared_tests(source), ["first", "second_one"]);
}

#[test]
fn progress_is_kept_beside_the_work_and_survives_a_clean_and_a_damaged_file_is_named() {
    let dir = std::env::temp_dir().join(format!("xtask-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = progress_file(&dir);
    assert_eq!(path, dir.join("progress.toml"));
    let mut progress = ProgressFile::default();
    progress.exercises.insert(
        "procs/reap".into(),
        Entry {
            result: Some("fail".into()),
            passed: Some(3),
            total: Some(4),
            source: Some(fingerprint(b"fn reap_all() {}")),
            hints_seen: 2,
        },
    );
    progress.exercises.insert(
        "procs/pstree".into(),
        Entry {
            hints_seen: 1,
            ..Entry::default()
        },
    );
    progress.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# Your progress"), "{text}");
    assert!(text.contains("[exercises.\"procs/reap\"]"), "{text}");
    // Nothing under target/ is involved: removing it (cargo clean) keeps everything.
    let _ = std::fs::remove_dir_all(dir.join("target"));
    let read = ProgressFile::read(&path).unwrap();
    assert_eq!(read, progress);
    let results = read.results();
    assert_eq!(results["procs/reap"].passed, 3);
    assert!(
        !results.contains_key("procs/pstree"),
        "hints only: no result"
    );
    assert_eq!(read.hints_seen("procs/pstree"), 1);
    assert_eq!(read.hints_seen("procs/capture"), 0);

    // A merge left conflict markers: the error names the file and what to do.
    std::fs::write(&path, "<<<<<<< HEAD\n[exercises]\n").unwrap();
    let e = ProgressFile::read(&path).unwrap_err();
    assert!(
        e.contains("progress.toml") && e.contains("grade again"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        ProgressFile::read(&path),
        Ok(ProgressFile::default()),
        "no file: no progress"
    );
}

#[test]
fn a_fingerprint_notices_one_byte() {
    assert_ne!(fingerprint(b"fn f() {}"), fingerprint(b"fn f() { }"));
}

#[test]
fn points_are_counted_one_way() {
    assert_eq!(earned(10, 4, 5, true), 8.0);
    assert_eq!(
        earned(10, 5, 5, false),
        0.0,
        "tests that did not build earn nothing"
    );
    assert_eq!(earned(10, 0, 0, true), 0.0, "no tests, nothing to show");
}

/// What is wrong with `doc` as an Exercism test-runner `results.json` (version 2 or 3),
/// rule by rule from the spec: the keys it defines and no other, each with its type; the
/// overall status agreeing with the tests' (`error` only when no test ran, and then with
/// a `message`); `output` at most 500 characters; `task_id` a task number (from 1).
fn exercism_violations(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let Some(top) = doc.as_object() else {
        return vec!["not a JSON object".into()];
    };
    for key in top.keys() {
        if !["version", "status", "message", "tests"].contains(&key.as_str()) {
            found.push(format!("a key the spec does not define: `{key}`"));
        }
    }
    let version = top.get("version").and_then(Value::as_u64);
    if !matches!(version, Some(2 | 3)) {
        found.push(format!(
            "version must be 2 or 3, not {:?}",
            top.get("version")
        ));
    }
    let status = top.get("status").and_then(Value::as_str).unwrap_or("");
    if !["pass", "fail", "error"].contains(&status) {
        found.push(format!("status `{status}` is not pass, fail or error"));
    }
    let message = top.get("message").unwrap_or(&Value::Null);
    match (status, message) {
        ("error", Value::String(m)) if !m.is_empty() && m.chars().count() <= 65_535 => {}
        ("error", _) => found.push("status error needs a message (at most 65,535 chars)".into()),
        (_, Value::Null) => {}
        (_, _) => found.push("a message is for status error only (else null or absent)".into()),
    }
    let tests = top.get("tests").and_then(Value::as_array);
    if status != "error" && tests.is_none() {
        found.push("pass or fail needs the tests".into());
    }
    let mut statuses = Vec::new();
    for (i, t) in tests.into_iter().flatten().enumerate() {
        let Some(t) = t.as_object() else {
            found.push(format!("test {i} is not an object"));
            continue;
        };
        for key in t.keys() {
            let known = [
                "name",
                "test_code",
                "status",
                "message",
                "output",
                "task_id",
            ];
            if !known.contains(&key.as_str()) || (key == "task_id" && version != Some(3)) {
                found.push(format!("test {i}: a key the spec does not define: `{key}`"));
            }
        }
        if !t.get("name").is_some_and(Value::is_string) {
            found.push(format!("test {i}: no name"));
        }
        if t.get("test_code").is_some_and(|c| !c.is_string()) {
            found.push(format!("test {i}: test_code is not a string"));
        }
        let s = t.get("status").and_then(Value::as_str).unwrap_or("");
        if !["pass", "fail", "error"].contains(&s) {
            found.push(format!("test {i}: status `{s}` is not pass, fail or error"));
        }
        statuses.push(s.to_string());
        for key in ["message", "output"] {
            if t.get(key).is_some_and(|v| !v.is_string() && !v.is_null()) {
                found.push(format!("test {i}: {key} is neither a string nor null"));
            }
        }
        if let Some(output) = t.get("output").and_then(Value::as_str) {
            if output.chars().count() > 500 {
                found.push(format!("test {i}: output longer than 500 characters"));
            }
        }
        if let Some(id) = t.get("task_id") {
            if id.as_u64().is_none_or(|id| id < 1) {
                found.push(format!("test {i}: task_id {id} is not a task number"));
            }
        }
    }
    let expected = if statuses.is_empty() || statuses.iter().all(|s| s == "error") {
        "error"
    } else if statuses.iter().all(|s| s == "pass") {
        "pass"
    } else {
        "fail"
    };
    if tests.is_some() && status != expected {
        found.push(format!("status `{status}`, but the tests say `{expected}`"));
    }
    found
}

/// Files shaped as the spec's examples of a valid results.json (its v2 and v3 examples,
/// and an error with no test run): the checker above must accept them.
const SPEC_EXAMPLES: [&str; 3] = [
    r#"{"version": 2, "status": "fail", "message": null, "tests": [
        {"name": "adds two numbers", "status": "fail", "message": "wanted 4, got 5",
         "output": "printed by the student", "test_code": "assert_eq!(add(2, 2), 4);"}]}"#,
    r#"{"version": 3, "status": "fail", "message": null, "tests": [
        {"name": "adds two numbers", "status": "fail", "message": "wanted 4, got 5",
         "output": "printed by the student", "test_code": "assert_eq!(add(2, 2), 4);",
         "task_id": 1}]}"#,
    r#"{"version": 3, "status": "error", "message": "error[E0308]: mismatched types"}"#,
];

#[test]
fn the_checker_accepts_the_spec_examples() {
    for example in SPEC_EXAMPLES {
        let doc: Value = serde_json::from_str(example).unwrap();
        assert_eq!(exercism_violations(&doc), Vec::<String>::new(), "{example}");
    }
}

#[test]
fn format_exercism_follows_the_spec_to_the_letter() {
    for grade in [sample(), Grade::default(), {
        let mut only_error = sample();
        only_error.exercises.remove(0);
        only_error
    }] {
        let doc: Value = serde_json::from_str(&exercism_text(&grade).unwrap()).unwrap();
        assert_eq!(exercism_violations(&doc), Vec::<String>::new(), "{doc:#}");
    }
    let doc: Value = serde_json::from_str(&exercism_text(&sample()).unwrap()).unwrap();
    assert_eq!(doc["status"], "fail");
    assert!(
        doc.get("message").is_none(),
        "no message unless status error: {doc}"
    );
    let tests = doc["tests"].as_array().unwrap();
    // A passing test carries no message; each test its body as test_code.
    assert!(tests[0].get("message").is_none());
    // Each exercise's tests link to its task: its number in its lesson.
    assert_eq!(tests[0]["task_id"], tests[2]["task_id"]);
    assert_ne!(tests[0]["task_id"], tests[3]["task_id"]);
}

#[test]
fn the_checker_finds_each_broken_rule() {
    let good: Value = serde_json::from_str(SPEC_EXAMPLES[1]).unwrap();
    type Break = fn(&mut Value);
    let broken: [(&str, Break); 9] = [
        ("a key", |d| d["points"] = 10.into()),
        ("a key", |d| d["tests"][0]["points"] = 1.into()),
        ("status `pass`", |d| d["status"] = "pass".into()),
        ("status `error`", |d| d["status"] = "error".into()),
        ("a message is for status error only", |d| {
            d["message"] = "why".into()
        }),
        ("output longer", |d| {
            d["tests"][0]["output"] = "x".repeat(501).into()
        }),
        ("task_id", |d| d["tests"][0]["task_id"] = 0.into()),
        ("version", |d| d["version"] = 4.into()),
        ("no name", |d| {
            d["tests"][0].as_object_mut().unwrap().remove("name");
        }),
    ];
    for (says, breaking) in broken {
        let mut doc = good.clone();
        breaking(&mut doc);
        let found = exercism_violations(&doc);
        assert!(
            found.iter().any(|f| f.contains(says)),
            "{says}: {found:?} in {doc}"
        );
    }
    // The --json file (points added) is not Exercism's format, and the checker says so.
    let with_points = to_json(&sample());
    assert!(!exercism_violations(&with_points).is_empty());
}
