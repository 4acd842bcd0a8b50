//! The `async-download` command, run as a user runs it: its usage and exit codes, its
//! JSON report, `--urls -`, a `kill -9` and a Ctrl-C in the middle of a run (and the run
//! that resumes after each), and a URL list written to escape the output folder.
//!
//! Every child is killed and waited for whatever happens (see [`Tool`]); every wait has
//! a deadline; every folder is removed at the end.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_download::verify::check_corpus_folder;
use serde_json::Value;
use sockets::corpus::FaultPlan;

use support::{TempDir, TinyServer, always_ok, corpus_server, journal_names, wait_for};

const TOOL: &str = env!("CARGO_BIN_EXE_async-download");

/// The longest any run of the tool in these tests may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A running `async-download`, its stdout and stderr going to files (so that nothing
/// blocks on a full pipe). Dropping it kills and reaps the process if it still runs.
#[derive(Debug)]
struct Tool {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// How a run of the tool ended.
#[derive(Debug)]
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Tool {
    /// Starts the tool with `args`; its output goes to files in `logs`.
    fn start(args: &[&str], logs: &Path, stdin: Stdio) -> Tool {
        let n = fs::read_dir(logs).map(|d| d.count()).unwrap_or(0);
        let stdout = logs.join(format!("stdout-{n}"));
        let stderr = logs.join(format!("stderr-{n}"));
        let child = Command::new(TOOL)
            .args(args)
            // The help is wrapped to the terminal's width, or COLUMNS: the same for all.
            .env("COLUMNS", "100")
            .stdin(stdin)
            .stdout(fs::File::create(&stdout).expect("a stdout file"))
            .stderr(fs::File::create(&stderr).expect("a stderr file"))
            .spawn()
            .expect("the tool starts");
        Tool {
            child,
            stdout,
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits at most `limit` for the tool to exit (killing it, and failing, past that).
    fn wait(mut self, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        let status = loop {
            match self.child.try_wait().expect("try_wait") {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "the tool did not exit within {limit:?}; its stderr:\n{}",
                        read(&self.stderr)
                    );
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        Finished {
            code: status.code(),
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned()
}

/// Runs the tool to its end (at most [`RUN_LIMIT`]).
fn run(args: &[&str], logs: &Path) -> Finished {
    Tool::start(args, logs, Stdio::null()).wait(RUN_LIMIT)
}

/// The JSON report the tool wrote to `path`.
/// The same 200-document corpus run into `out` again, without faults: it must end
/// with exit 0; returns its JSON report.
fn run_again(out: &str, logs: &Path) -> Value {
    let json = logs.join("second.json");
    let done = run(
        &[
            "--corpus",
            "200",
            "--out",
            out,
            "--json",
            json.to_str().unwrap(),
            "-q",
        ],
        logs,
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    report_at(&json)
}

fn report_at(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn count(report: &Value, field: &str) -> u64 {
    report[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no count {field} in {report}"))
}

#[test]
fn help_exits_0_with_the_usage_on_stdout() {
    let tmp = TempDir::new("tool-help");
    for flag in ["--help", "-h"] {
        let done = run(&[flag], tmp.path());
        assert_eq!(done.code, Some(0), "{flag}: {done:?}");
        for option in [
            "--corpus",
            "--urls",
            "--out",
            "--engine",
            "--race",
            "Exit codes",
        ] {
            assert!(
                done.stdout.contains(option),
                "{flag}: no {option}: {done:?}"
            );
        }
        // The tool speaks of downloading and the race only: the benchmark against
        // outside peers is the course's tooling (`cargo xtask bench --peers`).
        for peer in ["nginx", "wrk", "aiohttp", "--peers"] {
            assert!(!done.stdout.contains(peer), "{flag}: {peer}: {done:?}");
        }
        assert!(done.stderr.is_empty(), "{flag}: {done:?}");
    }
}

#[test]
fn the_readme_shows_the_help_as_it_is() {
    let tmp = TempDir::new("tool-readme");
    let done = run(&["-h"], tmp.path());
    assert_eq!(done.code, Some(0), "{done:?}");
    let readme = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"));
    let shown = readme
        .split_once("$ async-download -h\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(help, _)| help)
        .expect("README.md shows `$ async-download -h` in a code block");
    assert_eq!(
        shown, done.stdout,
        "README.md's copy of the help is out of date: paste the output of `async-download -h`"
    );
}

#[test]
fn bad_usage_exits_2_with_a_message_on_stderr() {
    let tmp = TempDir::new("tool-usage");
    for (args, message) in [
        (&["--bogus"][..], "unexpected argument '--bogus'"),
        (&["--corpus", "5", "--concurrency", "0"], "--concurrency"),
        (&["--corpus"], "a value is required for '--corpus"),
        (&["--urls", "-", "--fault-rate", "0.5"], "--fault-rate"),
        (&["--corpus", "3", "--urls", "-"], "cannot be used with"),
        (&["--corpus", "3", "--pipeline", "0"], "0 is not in 1..=64"),
        (
            &["--corpus", "3", "--engine", "threads", "--pipeline", "4"],
            "only the tokio engines pipeline",
        ),
        (&["--corpus", "3", "--engine", "tokyo"], "possible values"),
        (&["--quick"], "--race"),
        (&["--race", "--out", "x"], "cannot be used with"),
        (&["--corpu", "3"], "--corpus"),
    ] {
        let done = run(args, tmp.path());
        assert_eq!(done.code, Some(2), "{args:?}: {done:?}");
        assert!(done.stderr.contains(message), "{args:?}: {done:?}");
        assert!(done.stdout.is_empty(), "{args:?}: {done:?}");
    }
}

#[test]
fn an_unreadable_url_list_exits_3() {
    let tmp = TempDir::new("tool-no-list");
    let missing = tmp.join("no-such-list.txt");
    let done = run(&["--urls", missing.to_str().unwrap(), "-q"], tmp.path());
    assert_eq!(done.code, Some(3), "{done:?}");
    assert!(done.stderr.contains("no-such-list.txt"), "{done:?}");
}

#[test]
fn json_dash_prints_a_parseable_report_on_stdout() {
    let tmp = TempDir::new("tool-json");
    let done = run(
        &["--corpus", "40", "--concurrency", "8", "--json", "-", "-q"],
        tmp.path(),
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(done.stderr.is_empty(), "-q, yet: {}", done.stderr);
    let report: Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", done.stdout));
    assert_eq!(count(&report, "ok"), 40, "{report}");
    assert_eq!(count(&report, "failed"), 0, "{report}");
    assert_eq!(report["engine"], "tokio-multi");
    assert_eq!(report["interrupted"], false);
    assert_eq!(report["failures"], Value::Array(Vec::new()));
    let bytes: u64 = (0..40)
        .map(|id| sockets::corpus::document_size(id) as u64)
        .sum();
    assert_eq!(count(&report, "bytes"), bytes);
}

#[test]
fn some_failed_documents_make_the_exit_code_1_and_each_is_named_with_its_reason() {
    let server = corpus_server(FaultPlan::none());
    let tmp = TempDir::new("tool-some-failed");
    let list = tmp.join("urls.txt");
    let base = format!("http://{}", server.addr());
    fs::write(
        &list,
        format!("{base}/wiki/1\n{base}/wiki/2\nnot a url\n{base}/missing\n"),
    )
    .unwrap();
    let json = tmp.join("report.json");
    let done = run(
        &[
            "--urls",
            list.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--engine",
            "threads",
        ],
        tmp.path(),
    );
    assert_eq!(done.code, Some(1), "{done:?}");
    let report = report_at(&json);
    assert_eq!((count(&report, "ok"), count(&report, "failed")), (2, 2));
    assert_eq!(report["engine"], "threads");
    let failures: BTreeMap<String, (String, u64)> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let url = f["url"].as_str().unwrap().to_string();
            let reason = f["reason"].as_str().unwrap().to_string();
            (url, (reason, f["attempts"].as_u64().unwrap()))
        })
        .collect();
    let missing = &failures[&format!("{base}/missing")];
    assert_eq!(missing, &("status 404".to_string(), 1));
    let bad = &failures["line 3: not a url"];
    assert_eq!(bad.1, 0, "{bad:?}");
    // The summary on stderr names them too.
    assert!(done.stderr.contains("2 ok, 2 failed"), "{}", done.stderr);
    assert!(done.stderr.contains("status 404"), "{}", done.stderr);
}

#[test]
fn urls_dash_reads_the_list_from_stdin() {
    let server = corpus_server(FaultPlan::none());
    let tmp = TempDir::new("tool-stdin");
    let out = tmp.join("out");
    let mut tool = Tool::start(
        &["--urls", "-", "--out", out.to_str().unwrap(), "--json", "-"],
        tmp.path(),
        Stdio::piped(),
    );
    let mut list = String::from("# documents from stdin\n\n");
    for id in 0..25 {
        list.push_str(&format!("http://{}/wiki/{id}\n", server.addr()));
    }
    let mut stdin = tool.child.stdin.take().expect("a stdin pipe");
    stdin.write_all(list.as_bytes()).expect("write the list");
    drop(stdin); // the end of the list
    let done = tool.wait(RUN_LIMIT);
    assert_eq!(done.code, Some(0), "{done:?}");
    let report: Value = serde_json::from_str(&done.stdout).expect("a JSON report");
    assert_eq!((count(&report, "ok"), count(&report, "failed")), (25, 0));
    assert_eq!(journal_names(&out).len(), 25);
    let site = format!("127.0.0.1_{}", server.addr().port());
    let saved = fs::read(out.join(&site).join("wiki/7%")).expect("document 7 saved");
    assert_eq!(saved, sockets::corpus::document(7));
}

/// Arguments for a slow corpus run: every reply waits 250 ms (the `latency` fault at a
/// rate of 1), four at a time, so 200 documents take over ten seconds — time to stop
/// the run in the middle.
fn slow_corpus_run<'a>(out: &'a str, json: &'a str) -> Vec<&'a str> {
    vec![
        "--corpus",
        "200",
        "--faults",
        "latency",
        "--fault-rate",
        "1",
        "--concurrency",
        "4",
        "--out",
        out,
        "--json",
        json,
    ]
}

/// The processes whose parent is `pid` (the tool's corpus server).
fn children_of(pid: u32) -> Vec<i32> {
    let pids = procs::proc::pids_in(Path::new(procs::proc::PROC_ROOT)).unwrap_or_default();
    pids.into_iter()
        .filter(|&p| procs::proc::read_stat(p).is_ok_and(|s| s.ppid == pid as i32))
        .collect()
}

/// Whether `pid` has exited (gone, or a zombie nobody has reaped yet).
fn has_exited(pid: i32) -> bool {
    procs::proc::read_stat(pid).map_or(true, |s| s.state == 'Z')
}

/// The inode of each document in `names` under `out`: a document written again gets a
/// new one (the store renames a new file into place).
fn inodes(out: &Path, names: &BTreeSet<String>) -> BTreeMap<String, u64> {
    names
        .iter()
        .map(|name| {
            let meta = fs::metadata(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name.clone(), meta.ino())
        })
        .collect()
}

#[test]
fn a_run_killed_with_kill_9_resumes_fetching_only_what_is_missing() {
    let tmp = TempDir::new("tool-kill-9");
    let out = tmp.join("out");
    let (out_arg, json) = (out.to_str().unwrap(), tmp.join("first.json"));
    let mut tool = Tool::start(
        &slow_corpus_run(out_arg, json.to_str().unwrap()),
        tmp.path(),
        Stdio::null(),
    );
    wait_for("a dozen documents saved", Duration::from_secs(30), || {
        (journal_names(&out).len() >= 12).then_some(())
    });
    let servers = children_of(tool.pid());
    assert_eq!(servers.len(), 1, "one corpus server child: {servers:?}");
    tool.child.kill().expect("kill -9"); // SIGKILL: no handler, no clean-up
    let status = tool.child.wait().expect("reap the tool");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    drop(tool);
    // The corpus server sees its stdin close with its parent, and stops by itself.
    wait_for(
        "the orphaned corpus server to exit",
        Duration::from_secs(10),
        || servers.iter().all(|&p| has_exited(p)).then_some(()),
    );

    // What the killed run left: documents whole or absent, never cut short.
    let saved: BTreeSet<String> = journal_names(&out).into_iter().collect();
    assert!(saved.len() >= 12 && saved.len() < 200, "{}", saved.len());
    let check = check_corpus_folder(&out, 200).expect("check the folder");
    assert!(check.corrupt.is_empty(), "partial documents: {check:?}");
    assert!(check.complete >= saved.len() as u64, "{check:?}");
    let before = inodes(&out, &saved);
    assert!(!json.exists(), "a killed run wrote no report");

    // The same command again (without the slow faults): only the rest is fetched.
    let report = run_again(out_arg, tmp.path());
    let skipped = saved.len() as u64;
    assert_eq!(
        (
            count(&report, "ok"),
            count(&report, "failed"),
            count(&report, "skipped")
        ),
        (200 - skipped, 0, skipped),
        "{report}"
    );
    let check = check_corpus_folder(&out, 200).expect("check the folder");
    assert!(check.is_perfect(200), "{check:?}");
    assert_eq!(
        inodes(&out, &saved),
        before,
        "documents saved before the kill were written again"
    );
}

#[test]
fn ctrl_c_exits_130_with_an_interrupted_report_and_a_rerun_completes() {
    let tmp = TempDir::new("tool-ctrl-c");
    let out = tmp.join("out");
    let (out_arg, json) = (out.to_str().unwrap(), tmp.join("first.json"));
    let tool = Tool::start(
        &slow_corpus_run(out_arg, json.to_str().unwrap()),
        tmp.path(),
        Stdio::null(),
    );
    wait_for("eight documents saved", Duration::from_secs(30), || {
        (journal_names(&out).len() >= 8).then_some(())
    });
    let sent = Command::new("kill")
        .args(["-INT", &tool.pid().to_string()])
        .status()
        .expect("run kill -INT");
    assert!(sent.success());
    let started = Instant::now();
    let done = tool.wait(Duration::from_secs(20));
    assert_eq!(done.code, Some(130), "{done:?}");
    // Only the documents in flight are finished: four of them, a quarter second each.
    // (10 s guards against a run that went on after the Ctrl-C; the count of documents
    // below is what tells it did not.)
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(done.stderr.contains("interrupted"), "{}", done.stderr);
    let first = report_at(&json);
    assert_eq!(first["interrupted"], true, "{first}");
    let ok = count(&first, "ok");
    assert!((8..200).contains(&ok), "{first}");
    assert_eq!(ok, journal_names(&out).len() as u64, "{first}");
    let check = check_corpus_folder(&out, 200).expect("check the folder");
    assert!(
        check.corrupt.is_empty() && check.temporary == 0,
        "{check:?}"
    );
    assert_eq!(check.complete, ok, "{check:?}");

    let second = run_again(out_arg, tmp.path());
    assert_eq!(second["interrupted"], false, "{second}");
    assert_eq!(
        (
            count(&second, "ok"),
            count(&second, "failed"),
            count(&second, "skipped")
        ),
        (200 - ok, 0, ok),
        "{second}"
    );
    let check = check_corpus_folder(&out, 200).expect("check the folder");
    assert!(check.is_perfect(200), "{check:?}");
}

/// Every file under `dir`, as paths relative to it, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).expect("list a folder") {
            let entry = entry.expect("an entry");
            let kind = entry.file_type().expect("its type");
            if kind.is_dir() {
                folders.push(entry.path());
            } else {
                let bytes = fs::read(entry.path()).unwrap_or_default();
                let relative = entry.path().strip_prefix(dir).unwrap().to_path_buf();
                files.insert(relative, bytes);
            }
        }
    }
    files
}

/// The entries of `dir` whose names contain `token`.
fn entries_with(dir: &Path, token: &str) -> Vec<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(token))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn hostile_urls_never_write_outside_out_and_bad_lines_are_reported_with_their_number() {
    let server = TinyServer::start(always_ok(b"hello\n"));
    let base = format!("http://{}", server.addr());
    let tmp = TempDir::new("tool-hostile");
    // What must stay as it is: the folder around --out, with a file of its own.
    let parent = tmp.join("parent");
    fs::create_dir_all(&parent).unwrap();
    fs::write(parent.join("sentinel.txt"), b"untouched\n").unwrap();
    let out = parent.join("out");
    let before = tree(&parent);
    // A name no other file has, to look for anywhere an escape could land.
    let token = format!("adl-escape-{}", std::process::id());
    let up = "../".repeat(30);

    // (line, text); the good ones are fetched, the bad ones reported by line number.
    let lines: Vec<(u64, String)> = vec![
        (1, "# hostile URLs".to_string()),
        (2, format!("{base}/{up}tmp/{token}-dotdot")),
        (
            3,
            format!("{base}/%2e%2e/%2E%2E/%2e%2e%2f%2e%2e/{token}-encoded"),
        ),
        (4, format!("{base}//tmp/{token}-double-slash")),
        (5, format!("/tmp/{token}-absolute")),
        (6, format!("../../{token}-relative")),
        (7, format!("file:///tmp/{token}-file")),
        (8, format!("{base}/{}", "a".repeat(9000))), // over 8 KiB: no URL
        (9, "x".repeat(20_000)),                     // over 16 KiB: no line
        (10, format!("{base}/{}{token}-long", "b/../".repeat(1000))),
        (11, format!("{base}/.journal")),
        (12, format!("{base}/nul\u{0}byte-{token}")),
        (13, String::new()),
        (14, format!("{base}/..")),
        (15, format!("{base}/?q=../../{token}-query")),
        (16, format!("{base}/.tmp-1-1")),
    ];
    let bad: BTreeMap<u64, &str> = [
        (5, "scheme"),
        (6, "scheme"),
        (7, "only http"),
        (8, "at most 8192"),
        (9, "longer than 16384 bytes"),
        (12, "invalid character"),
    ]
    .into_iter()
    .collect();
    let fetched = lines.len() - bad.len() - 2; // less the comment and the blank line
    let mut list = String::new();
    for (n, text) in &lines {
        assert_eq!(*n as usize, list.lines().count() + 1);
        list.push_str(text);
        list.push('\n');
    }
    let list_path = tmp.join("urls.txt");
    fs::write(&list_path, &list).unwrap();
    let json = tmp.join("report.json");
    let done = run(
        &[
            "--urls",
            list_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(done.code, Some(1), "{done:?}");
    let report = report_at(&json);
    assert_eq!(
        (count(&report, "ok"), count(&report, "failed")),
        (fetched as u64, bad.len() as u64),
        "{report}"
    );
    assert_eq!(server.targets().len(), fetched);

    // Each bad line is reported with its number and why, and never fetched.
    let failures = report["failures"].as_array().unwrap();
    for (line, why) in &bad {
        let prefix = format!("line {line}: ");
        let failure = failures
            .iter()
            .find(|f| f["url"].as_str().unwrap().starts_with(&prefix))
            .unwrap_or_else(|| panic!("line {line} is not reported: {report}"));
        let reason = failure["reason"].as_str().unwrap();
        assert!(reason.contains(why), "line {line}: {reason}");
        assert_eq!(failure["attempts"], 0, "line {line}");
        assert!(failure["url"].as_str().unwrap().len() < 300, "line {line}");
    }

    // Nothing beside --out changed, and nothing landed where an escape would go.
    let after = tree(&parent);
    let outside: BTreeMap<_, _> = after
        .iter()
        .filter(|(path, _)| !path.starts_with("out"))
        .collect();
    let expected: BTreeMap<_, _> = before.iter().collect();
    assert_eq!(outside, expected, "files outside --out changed");
    for dir in [
        Path::new("/tmp"),
        &std::env::temp_dir(),
        tmp.path(),
        &parent,
    ] {
        assert_eq!(entries_with(dir, &token), Vec::<String>::new(), "{dir:?}");
    }
    // Inside --out: the journal, and one whole document per URL fetched, none of them
    // in the journal's place or a temporary file's.
    let inside: BTreeMap<_, _> = after
        .into_iter()
        .filter_map(|(path, bytes)| Some((path.strip_prefix("out").ok()?.to_path_buf(), bytes)))
        .collect();
    let documents: Vec<_> = inside
        .iter()
        .filter(|(path, _)| path.as_os_str() != ".journal")
        .collect();
    assert_eq!(documents.len(), fetched, "{inside:?}");
    for (path, bytes) in documents {
        assert_eq!(bytes, b"hello\n", "{path:?}");
        // A host's folder, then a folder per path segment (the tree layout): each
        // component a plain name, none hidden, none too long.
        assert!(path.components().count() >= 2, "{path:?}");
        for component in path.components() {
            let std::path::Component::Normal(part) = component else {
                panic!("{path:?}: {component:?}");
            };
            let part = part.to_string_lossy();
            assert!(!part.starts_with('.') && part.len() <= 255, "{path:?}");
        }
    }
    assert_eq!(journal_names(&out).len(), fetched);
}

#[test]
fn pipelined_downloads_from_the_corpus_server_are_whole() {
    let tmp = TempDir::new("tool-pipeline");
    let out = tmp.join("out");
    for engine in ["tokio", "tokio-multi"] {
        let done = run(
            &[
                "--corpus",
                "300",
                "--engine",
                engine,
                "--pipeline",
                "8",
                "--concurrency",
                "5",
                "--out",
                out.to_str().unwrap(),
                "-q",
            ],
            tmp.path(),
        );
        assert_eq!(done.code, Some(0), "{engine}: {done:?}");
        let check = check_corpus_folder(&out, 300).expect("the folder");
        assert!(check.is_perfect(300), "{engine}: {check:?}");
        fs::remove_dir_all(&out).expect("remove the folder");
    }
}

#[test]
fn failed_writes_the_urls_that_failed_and_feeding_it_back_retries_exactly_those() {
    // Every path under /bad/ is a 404 (not retried); everything else is a document.
    let server = TinyServer::start(|target, stream| {
        let reply: &[u8] = if target.starts_with("/bad/") {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        };
        let _ = stream.write_all(reply);
    });
    let tmp = TempDir::new("tool-failed");
    let base = format!("http://{}", server.addr());
    let list = tmp.join("urls.txt");
    fs::write(
        &list,
        format!(
            "# a list\n{base}/good/1\n{base}/bad/1\nnot a url\n{base}/good/2\n{base}/bad/2?x=1\n"
        ),
    )
    .unwrap();
    let failed = tmp.join("failed.txt");
    let out = tmp.join("out");
    let args = |urls: &Path| -> Vec<String> {
        [
            "--urls",
            urls.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--failed",
            failed.to_str().unwrap(),
            "--quiet",
        ]
        .map(String::from)
        .to_vec()
    };
    let first: Vec<String> = args(&list);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let done = run(&first, tmp.path());
    assert_eq!(done.code, Some(1), "{done:?}");
    let text = fs::read_to_string(&failed).expect("the failed list is written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "# async-download: 3 failed; run them again with --urls FILE",
            "# status 404 (1 attempts)",
            &format!("{base}/bad/1"),
            "# status 404 (1 attempts)",
            &format!("{base}/bad/2?x=1"),
            // The line that is not a URL is named, as comments: it is not tried again.
            lines[5],
            "# line 4: not a url",
        ],
        "{text}"
    );
    assert!(lines[5].starts_with("# ") && lines[5].len() > 2, "{text}");

    // Fed back as the URL list: exactly the two failed URLs are asked for again.
    let asked_before = server.targets().len();
    let retry_list = tmp.join("retry.txt");
    fs::copy(&failed, &retry_list).unwrap();
    let second: Vec<String> = args(&retry_list);
    let second: Vec<&str> = second.iter().map(String::as_str).collect();
    let done = run(&second, tmp.path());
    assert_eq!(done.code, Some(1), "{done:?}");
    let mut asked: Vec<String> = server.targets()[asked_before..].to_vec();
    asked.sort();
    assert_eq!(asked, ["/bad/1", "/bad/2?x=1"]);
    let text = fs::read_to_string(&failed).unwrap();
    assert!(
        text.starts_with("# async-download: 2 failed"),
        "only the two URLs fail again: {text}"
    );

    // A run with no failure writes a list with none, and exits 0.
    let good = tmp.join("good.txt");
    fs::write(&good, format!("{base}/good/3\n")).unwrap();
    let third: Vec<String> = args(&good);
    let third: Vec<&str> = third.iter().map(String::as_str).collect();
    let done = run(&third, tmp.path());
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(
        fs::read_to_string(&failed).unwrap(),
        "# async-download: 0 failed; run them again with --urls FILE\n"
    );
}

#[test]
fn a_bad_header_is_a_usage_error_that_names_it() {
    let tmp = TempDir::new("tool-bad-header");
    let cases: [(&[&str], &str); 5] = [
        (&["-H", "no colon here"], "no colon here"),
        (&["-H", "Bad Name: x"], "Bad Name"),
        (&["--header", "Content-Length: 5"], "Content-Length"),
        (&["-H", "host: elsewhere"], "host"),
        (&["--user-agent", "a\u{7}b"], "control byte"),
    ];
    for (args, named) in cases {
        let done = run(args, tmp.path());
        assert_eq!(done.code, Some(2), "{args:?}: {done:?}");
        assert!(done.stderr.contains(named), "{args:?}: {}", done.stderr);
        assert!(done.stdout.is_empty(), "{args:?}: {done:?}");
    }
}

#[test]
fn headers_and_the_user_agent_from_the_command_line_reach_the_server() {
    let server = TinyServer::start(always_ok(b"hello\n"));
    let tmp = TempDir::new("tool-headers");
    let list = tmp.join("urls.txt");
    fs::write(&list, format!("http://{}/a\n", server.addr())).unwrap();
    for (engine, agent_args, agent) in [
        ("tokio-multi", &["--user-agent", "tool/2"][..], "tool/2"),
        // A -H User-Agent replaces --user-agent, as with curl.
        (
            "event-loop",
            &["--user-agent", "tool/2", "-H", "User-Agent: curl-ish/8"][..],
            "curl-ish/8",
        ),
        (
            "threads",
            &[][..],
            concat!("async-download/", env!("CARGO_PKG_VERSION")),
        ),
    ] {
        let before = server.heads().len();
        let mut args = vec![
            "--urls",
            list.to_str().unwrap(),
            "--engine",
            engine,
            "-q",
            "-H",
            "X-One: 1",
            "--header",
            "X-Two:  two words ",
        ];
        args.extend_from_slice(agent_args);
        let done = run(&args, tmp.path());
        assert_eq!(done.code, Some(0), "{engine}: {done:?}");
        let heads = server.heads();
        assert_eq!(heads.len(), before + 1, "{engine}");
        let head = &heads[before];
        for want in [
            "\r\nX-One: 1\r\n".to_string(),
            "\r\nX-Two: two words\r\n".to_string(),
            format!("\r\nUser-Agent: {agent}\r\n"),
        ] {
            assert!(head.contains(&want), "{engine}: {want:?} in {head:?}");
        }
        assert_eq!(head.matches("User-Agent").count(), 1, "{engine}: {head:?}");
    }
}

#[test]
fn one_url_with_o_is_saved_as_that_file_and_nothing_else() {
    let server = TinyServer::start(|target, stream| {
        let reply: &[u8] = if target == "/missing" {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"
        };
        let _ = stream.write_all(reply);
    });
    let tmp = TempDir::new("tool-one-url");
    let dir = tmp.join("here");
    fs::create_dir(&dir).unwrap();
    let file = dir.join("page.html");
    let url = format!("http://{}/a/b", server.addr());
    let done = run(&[&url, "-o", file.to_str().unwrap(), "-q"], tmp.path());
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(fs::read(&file).unwrap(), b"hello\n");
    // The file, and nothing else: no journal, no temporary file.
    let listing: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listing, ["page.html"]);
    assert_eq!(server.targets(), ["/a/b"]);

    // `-o -`: the document on stdout.
    let done = run(&[&url, "-o", "-", "-q"], tmp.path());
    assert_eq!(
        (done.code, done.stdout.as_str()),
        (Some(0), "hello\n"),
        "{done:?}"
    );

    // A URL that fails: exit 1, and the file it would have replaced is left as it was.
    let missing = format!("http://{}/missing", server.addr());
    let done = run(&[&missing, "-o", file.to_str().unwrap()], tmp.path());
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.stderr.contains("status 404"), "{}", done.stderr);
    assert_eq!(fs::read(&file).unwrap(), b"hello\n");

    // Without -o, and with --out: saved by the layout, as from a list.
    let out = tmp.join("out");
    let done = run(&[&url, "--out", out.to_str().unwrap(), "-q"], tmp.path());
    assert_eq!(done.code, Some(0), "{done:?}");
    let site = format!("127.0.0.1_{}", server.addr().port());
    assert_eq!(fs::read(out.join(site).join("a/b%")).unwrap(), b"hello\n");
}

#[test]
fn a_bad_single_url_or_a_lone_o_is_a_usage_error() {
    let tmp = TempDir::new("tool-one-url-usage");
    let cases: [(&[&str], &str); 4] = [
        (&["ftp://example.com/x"], "ftp"),
        (&["-o", "x.html"], "<URL>"),
        (&["http://h/x", "--urls", "list.txt"], "cannot be used with"),
        (
            &["http://h/x", "-o", "f", "--out", "d"],
            "cannot be used with",
        ),
    ];
    for (args, says) in cases {
        let done = run(args, tmp.path());
        assert_eq!(done.code, Some(2), "{args:?}: {done:?}");
        assert!(done.stderr.contains(says), "{args:?}: {}", done.stderr);
    }
}

#[test]
fn flat_keeps_one_name_per_url_and_a_resumed_run_finds_the_files_of_its_layout() {
    let server = TinyServer::start(always_ok(b"hello\n"));
    let tmp = TempDir::new("tool-flat");
    let list = tmp.join("urls.txt");
    let base = format!("http://{}", server.addr());
    fs::write(&list, format!("{base}/a/b.txt\n{base}/a\n")).unwrap();
    let site = format!("127.0.0.1_{}", server.addr().port());
    for (flat, names) in [(true, ["%2Fa%2Fb.txt", "%2Fa"]), (false, ["a/b.txt", "a%"])] {
        let out = tmp.join(if flat { "flat" } else { "tree" });
        let mut args = vec![
            "--urls",
            list.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        if flat {
            args.push("--flat");
        }
        args.extend(["--json", "-", "-q"]);
        let done = run(&args, tmp.path());
        assert_eq!(done.code, Some(0), "{done:?}");
        for name in names {
            assert_eq!(
                fs::read(out.join(&site).join(name)).unwrap(),
                b"hello\n",
                "{name}"
            );
        }
        // The same command again: both are found, nothing is fetched.
        let asked = server.targets().len();
        let done = run(&args, tmp.path());
        let report: Value = serde_json::from_str(&done.stdout).expect("a JSON report");
        assert_eq!((count(&report, "ok"), count(&report, "skipped")), (0, 2));
        assert_eq!(server.targets().len(), asked);
    }
}
