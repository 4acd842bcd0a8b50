//! Every document's outcome, counted: what the report says at the end.
//!
//! The engines run workers on one thread or on many, so the counts are atomics and the
//! few things that need more (the list of failures, the output folder) take a lock
//! only on their rare path. A document that succeeds costs a handful of atomic
//! additions, whatever the engine — the collector must not be what the race measures.
//!
//! Latencies go into a log-scale histogram (eight buckets per doubling, so a
//! percentile is exact to within 9%) instead of a list: a million latencies would be
//! eight megabytes, the histogram is four kilobytes.

use std::sync::Mutex;
// Relaxed throughout: these atomics are counts and a flag that publish no other data;
// the report reads them once the downloads have ended.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde::Serialize;
use sockets::url::Url;

use crate::error::FetchError;
use crate::policy::Document;
use crate::progress::Progress;
use crate::store::Store;
use crate::target::{BadLine, Target};

/// One document that could not be fetched, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// The URL (or the input line, for a line that is not a URL).
    pub url: String,
    pub reason: String,
    /// Attempts made (0 for a bad input line).
    pub attempts: u32,
}

/// A document that was redirected: the URL asked for (its name is that URL's) and
/// where it ended up.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Redirected {
    pub url: String,
    pub landed: String,
}

/// What a download did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub engine: String,
    pub concurrency: usize,
    /// Documents received whole and checked (and saved, with `--out`).
    pub ok: u64,
    /// Documents given up on, each in `failures`.
    pub failed: u64,
    /// Panics caught during the run (bugs): each with where it happened. A run with
    /// any fails, whatever else it did.
    pub panics: Vec<String>,
    /// Attempts that failed and were tried again.
    pub retried: u64,
    /// Documents the journal said an earlier run had saved: not fetched again.
    pub skipped: u64,
    /// Body bytes of the documents received.
    pub bytes: u64,
    pub wall_secs: f64,
    pub docs_per_sec: f64,
    pub mb_per_sec: f64,
    /// Time from a document's first attempt to its end, retries included.
    pub latency_p50_ms: f64,
    pub latency_p90_ms: f64,
    pub latency_p99_ms: f64,
    /// The most memory this process held at once (VmHWM), in bytes; 0 if unknown.
    pub peak_rss_bytes: u64,
    /// Whether Ctrl-C (or an input error) stopped the run before its end.
    pub interrupted: bool,
    pub failures: Vec<Failure>,
    /// The documents fetched after one or more redirects, with where each ended up.
    pub redirected: Vec<Redirected>,
}

impl Report {
    // ANCHOR: failed_list
    /// The failures as a URL list `--urls` reads back (`--failed FILE`): each URL on a
    /// line of its own, after a `# ` line with its reason; a line of the input that was
    /// not a URL is written as comments only (run again, it would only fail again).
    /// Control bytes in a reason become spaces: a comment stays one line.
    pub fn failed_list(&self) -> String {
        let mut text = format!(
            "# async-download: {} failed; run them again with --urls FILE\n",
            self.failures.len()
        );
        for failure in &self.failures {
            let reason = one_line(&failure.reason);
            if sockets::url::Url::parse_web(&failure.url).is_ok() {
                text.push_str(&format!(
                    "# {reason} ({} attempts)\n{}\n",
                    failure.attempts, failure.url
                ));
            } else {
                text.push_str(&format!("# {reason}\n# {}\n", one_line(&failure.url)));
            }
        }
        text
    }
    // ANCHOR_END: failed_list

    /// A few lines for a person.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} ok, {} failed, {} retried, {} skipped (already saved)\n\
             {:.1} MB in {:.2} s: {:.0} documents/s, {:.1} MB/s ({} engine, concurrency {})\n\
             latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms; peak RSS {:.1} MiB\n",
            self.ok,
            self.failed,
            self.retried,
            self.skipped,
            self.bytes as f64 / 1e6,
            self.wall_secs,
            self.docs_per_sec,
            self.mb_per_sec,
            self.engine,
            self.concurrency,
            self.latency_p50_ms,
            self.latency_p90_ms,
            self.latency_p99_ms,
            self.peak_rss_bytes as f64 / (1024.0 * 1024.0),
        );
        if !self.redirected.is_empty() {
            text.push_str(&format!(
                "{} redirected (where each ended up: in --json, and in DIR/.journal with --out)\n",
                self.redirected.len()
            ));
        }
        if self.interrupted {
            text.push_str("interrupted: run the same command again to fetch the rest\n");
        }
        for panic in &self.panics {
            text.push_str(&format!("error: a bug: the program panicked {panic}\n"));
        }
        const SHOWN: usize = 20;
        for failure in self.failures.iter().take(SHOWN) {
            text.push_str(&format!(
                "failed: {} ({} attempts): {}\n",
                failure.url, failure.attempts, failure.reason
            ));
        }
        if self.failures.len() > SHOWN {
            text.push_str(&format!(
                "... and {} more failures (all of them are in --json)\n",
                self.failures.len() - SHOWN
            ));
        }
        text
    }
}

/// `text` with each control byte (a newline, say) as a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

// ANCHOR: histogram
/// Counts of durations in log-scale buckets: values under 16 µs exactly, then eight
/// buckets per power of two.
#[derive(Debug)]
pub struct Histogram {
    buckets: Vec<AtomicU64>,
}

const SUB: u32 = 8;
const LINEAR: u64 = 16;

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: (0..bucket_of(u64::MAX) + 1)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    pub fn record(&self, value: Duration) {
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(micros)].fetch_add(1, Relaxed);
    }
    // ANCHOR_END: histogram

    // ANCHOR: quantile
    /// The value below which a fraction `q` of the recorded ones lie (the upper edge of
    /// its bucket); zero when nothing was recorded.
    pub fn quantile(&self, q: f64) -> Duration {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_micros(upper_edge(bucket));
            }
        }
        Duration::from_micros(u64::MAX)
    }
}
// ANCHOR_END: quantile

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

// ANCHOR: bucket_of
fn bucket_of(micros: u64) -> usize {
    if micros < LINEAR {
        return micros as usize;
    }
    let power = 63 - micros.leading_zeros(); // 4 or more
    let sub = (micros >> (power - 3)) & u64::from(SUB - 1);
    (LINEAR + u64::from(power - 4) * u64::from(SUB) + sub) as usize
}
// ANCHOR_END: bucket_of

fn upper_edge(bucket: usize) -> u64 {
    let bucket = bucket as u64;
    if bucket < LINEAR {
        return bucket;
    }
    let power = (bucket - LINEAR) / u64::from(SUB) + 4;
    let sub = (bucket - LINEAR) % u64::from(SUB);
    let low = (1u64 << power) + (sub << (power - 3));
    low.saturating_add((1u64 << (power - 3)) - 1)
}

/// Where `-o` writes the document of a single-URL run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A file, written whole or not at all ([`crate::store::write_file`]).
    File(std::path::PathBuf),
    /// Standard output (`-o -`).
    Stdout,
}

impl Output {
    fn write(&self, body: &[u8]) -> Result<(), FetchError> {
        use std::io::Write as _;
        let (name, result) = match self {
            Output::File(path) => (
                path.display().to_string(),
                crate::store::write_file(path, body),
            ),
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                (
                    "standard output".to_string(),
                    out.write_all(body).and_then(|()| out.flush()),
                )
            }
        };
        result.map_err(|e| FetchError::Save {
            name,
            reason: e.to_string(),
        })
    }
}

/// Where every engine's workers hand their outcomes.
#[derive(Debug)]
pub struct Collector {
    store: Option<Store>,
    /// `-o`: where the one document of a single-URL run goes, beside any store.
    output: Option<Output>,
    progress: Progress,
    ok: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    skipped: AtomicU64,
    bytes: AtomicU64,
    interrupted: AtomicBool,
    latency: Histogram,
    failures: Mutex<Vec<Failure>>,
    redirected: Mutex<Vec<Redirected>>,
    panics: Mutex<Vec<String>>,
    started: Instant,
}

impl Collector {
    pub fn new(store: Option<Store>, progress: Progress) -> Collector {
        Collector {
            store,
            output: None,
            progress,
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            interrupted: AtomicBool::new(false),
            latency: Histogram::new(),
            failures: Mutex::new(Vec::new()),
            redirected: Mutex::new(Vec::new()),
            panics: Mutex::new(Vec::new()),
            started: Instant::now(),
        }
    }

    /// Also writes each document to `output` (`-o`: meant for a run of one URL; with
    /// more, the last one saved wins).
    pub fn with_output(mut self, output: Output) -> Collector {
        self.output = Some(output);
        self
    }

    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// The file of `-o FILE`, if that is where the document goes.
    pub fn output_file(&self) -> Option<&std::path::Path> {
        match &self.output {
            Some(Output::File(path)) => Some(path),
            _ => None,
        }
    }

    /// Whether documents are kept (saved with `--out`, or written by `-o`). When they
    /// are not, a body that nothing checks need not be held at all (see
    /// [`crate::policy::needs_body`]).
    pub fn keeps_documents(&self) -> bool {
        self.store.is_some() || self.output.is_some()
    }

    // ANCHOR: document
    /// A document arrived whole and checked: save it (with `--out`) and count it.
    /// `started` is when its first attempt began; `landed`, the URL it came from in
    /// the end if it was redirected (it is saved under the name of the URL asked for).
    pub fn document(
        &self,
        target: &Target,
        document: &Document,
        attempts: u32,
        started: Instant,
        landed: Option<&Url>,
    ) {
        if let Some(store) = &self.store {
            let saved = store
                .save(target.name(), &document.body)
                .and_then(|()| match landed {
                    Some(landed) => store.landed(target.name(), landed),
                    None => Ok(()),
                });
            if let Err(error) = saved {
                self.failure(target, error, attempts);
                return;
            }
        }
        if let Some(output) = &self.output {
            if let Err(error) = output.write(&document.body) {
                self.failure(target, error, attempts);
                return;
            }
        }
        self.fetched(target, document.len, started, landed);
    }
    // ANCHOR_END: document

    /// A document saved already by its part file (see [`crate::part`]), of which this
    /// run fetched `len` bytes (a part an earlier run left is not counted): counted as
    /// [`document`](Collector::document) counts one, and recorded.
    pub fn document_saved(
        &self,
        target: &Target,
        len: u64,
        attempts: u32,
        started: Instant,
        landed: Option<&Url>,
    ) {
        if let (Some(store), Some(landed)) = (&self.store, landed) {
            if let Err(error) = store.landed(target.name(), landed) {
                self.failure(target, error, attempts);
                return;
            }
        }
        self.fetched(target, len, started, landed);
    }

    /// Counts a document fetched and kept.
    fn fetched(&self, target: &Target, len: u64, started: Instant, landed: Option<&Url>) {
        if let Some(landed) = landed {
            let redirected = Redirected {
                url: target.url.to_string(),
                landed: landed.to_string(),
            };
            if let Ok(mut list) = self.redirected.lock() {
                list.push(redirected);
            }
        }
        self.latency.record(started.elapsed());
        self.ok.fetch_add(1, Relaxed);
        self.bytes.fetch_add(len, Relaxed);
        self.progress.document(len);
    }

    /// A document given up on.
    pub fn failure(&self, target: &Target, error: FetchError, attempts: u32) {
        self.failed.fetch_add(1, Relaxed);
        self.progress.failure();
        let failure = Failure {
            url: target.url.to_string(),
            reason: error.to_string(),
            attempts,
        };
        if let Ok(mut failures) = self.failures.lock() {
            failures.push(failure);
        }
    }

    /// A panic caught while fetching `target`: the target failed, and the run with it.
    pub fn panicked(&self, target: &Target, message: String, attempts: u32) {
        self.record_panic(format!("while fetching {}: {message}", target.url));
        self.failure(target, FetchError::Panicked(message), attempts);
    }

    /// A panic caught in a worker, outside any one target.
    pub fn worker_panicked(&self, message: String) {
        self.record_panic(format!("in a worker: {message}"));
    }

    fn record_panic(&self, what: String) {
        // A poisoned lock still holds a list: take it, the panic is what is reported.
        let mut panics = self.panics.lock().unwrap_or_else(|p| p.into_inner());
        panics.push(what);
    }

    /// An input line that is not a URL: reported, never fetched.
    pub fn bad_line(&self, bad: BadLine) {
        self.failed.fetch_add(1, Relaxed);
        self.progress.failure();
        let failure = Failure {
            url: format!("line {}: {}", bad.line, bad.text),
            reason: bad.reason,
            attempts: 0,
        };
        if let Ok(mut failures) = self.failures.lock() {
            failures.push(failure);
        }
    }

    /// An attempt failed and will be tried again.
    pub fn retry(&self) {
        self.retried.fetch_add(1, Relaxed);
    }

    /// A target the journal lists as saved.
    pub fn skip(&self) {
        self.skipped.fetch_add(1, Relaxed);
        self.progress.skip();
    }

    /// The run stopped before its end.
    pub fn interrupt(&self) {
        // Relaxed: a flag for the report; it publishes no other data.
        self.interrupted.store(true, Relaxed);
    }

    /// Documents finished so far, either way.
    pub fn finished(&self) -> u64 {
        self.ok.load(Relaxed) + self.failed.load(Relaxed)
    }

    /// The report, as of now.
    pub fn report(&self, engine: &str, concurrency: usize) -> Report {
        self.progress.finish();
        let wall = self.started.elapsed().as_secs_f64();
        let ok = self.ok.load(Relaxed);
        let bytes = self.bytes.load(Relaxed);
        let per_sec = |n: f64| if wall > 0.0 { n / wall } else { 0.0 };
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut failures = self.failures.lock().map(|f| f.clone()).unwrap_or_default();
        failures.sort_by(|a, b| a.url.cmp(&b.url));
        let mut redirected = self
            .redirected
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        redirected.sort_by(|a, b| a.url.cmp(&b.url));
        Report {
            engine: engine.to_string(),
            concurrency,
            ok,
            failed: self.failed.load(Relaxed),
            panics: self.panics.lock().map(|p| p.clone()).unwrap_or_default(),
            retried: self.retried.load(Relaxed),
            skipped: self.skipped.load(Relaxed),
            bytes,
            wall_secs: wall,
            docs_per_sec: per_sec(ok as f64),
            mb_per_sec: per_sec(bytes as f64 / 1e6),
            latency_p50_ms: ms(self.latency.quantile(0.50)),
            latency_p90_ms: ms(self.latency.quantile(0.90)),
            latency_p99_ms: ms(self.latency.quantile(0.99)),
            peak_rss_bytes: procs::proc::self_status().map(|s| s.vm_hwm).unwrap_or(0),
            interrupted: self.interrupted.load(Relaxed),
            failures,
            redirected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_each_value_lies_within_its_bucket() {
        let mut last = 0;
        for micros in (0..5000u64).chain([1 << 20, 123_456_789, u64::MAX / 2, u64::MAX]) {
            let bucket = bucket_of(micros);
            assert!(bucket >= last, "{micros}");
            last = bucket;
            assert!(
                upper_edge(bucket) >= micros,
                "{micros} above its bucket's edge"
            );
            if bucket > 0 {
                assert!(upper_edge(bucket - 1) < micros, "{micros} belongs lower");
            }
        }
    }

    #[test]
    fn quantiles_are_within_an_eighth() {
        let h = Histogram::new();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        for (q, exact) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile(q).as_secs_f64() * 1000.0;
            assert!(
                got >= exact && got <= exact * 1.13,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(Histogram::new().quantile(0.5), Duration::ZERO);
    }
}
