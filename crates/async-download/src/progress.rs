//! The progress line: documents, documents/s, MB/s, errors and the time left.
//!
//! Drawn by indicatif on stderr, at most a few times a second whatever the rate of
//! documents (a million redraws would cost more than the downloads), and not at all
//! when stderr is not a terminal (CI logs, pipes) or with `--quiet`: the report at the
//! end says everything anyway.

use std::sync::Arc;
// Relaxed throughout: two counts shown on a progress bar; only their own values matter.
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A progress display, or nothing (`Progress::hidden()`).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    bytes: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
}

impl Progress {
    /// No display at all.
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            bytes: Arc::new(AtomicU64::new(0)),
            errors: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A bar on stderr for `total` documents (`None`: unknown, a counter instead),
    /// drawn only if stderr is a terminal.
    pub fn stderr(total: Option<u64>) -> Progress {
        let bytes = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let target = ProgressDrawTarget::stderr_with_hz(4);
        if target.is_hidden() {
            return Progress::hidden();
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), target),
            None => ProgressBar::with_draw_target(None, target),
        };
        let template = if total.is_some() {
            "{bar:30} {pos}/{len} docs  {per_sec:.0}  {mbs}  {errors}  ETA {eta}"
        } else {
            "{spinner} {pos} docs  {per_sec:.0}  {mbs}  {errors}  {elapsed}"
        };
        let (b, e) = (bytes.clone(), errors.clone());
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "mbs",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let secs = state.elapsed().as_secs_f64().max(1e-3);
                    let _ = write!(w, "{:.1} MB/s", b.load(Relaxed) as f64 / 1e6 / secs);
                },
            )
            .with_key(
                "errors",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{} errors", e.load(Relaxed));
                },
            );
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar: Some(bar),
            bytes,
            errors,
        }
    }

    pub fn document(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            self.bytes.fetch_add(bytes, Relaxed);
            bar.inc(1);
        }
    }

    pub fn failure(&self) {
        if let Some(bar) = &self.bar {
            self.errors.fetch_add(1, Relaxed);
            bar.inc(1);
        }
    }

    pub fn skip(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Clears the bar (the report follows).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
