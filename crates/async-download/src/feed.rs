//! Hands out targets to the workers, one at a time, as they ask.
//!
//! This is where "never one task per URL held in memory at once" is kept: the input is
//! an iterator, and a worker takes the next target only when it is free, so at any time
//! only `concurrency` targets exist. The feed also skips what the journal says an
//! earlier run saved, reports the input lines that are not URLs, and stops handing out
//! work when asked (Ctrl-C): the workers finish the document in hand and return.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::collect::Collector;
use crate::target::{Line, Target};

/// The input, as a stream of lines.
pub type Lines = Box<dyn Iterator<Item = std::io::Result<Line>> + Send>;

/// The shared source of targets.
pub struct Feed {
    lines: Mutex<Lines>,
    stopped: AtomicBool,
    input_error: Mutex<Option<std::io::Error>>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

impl Feed {
    pub fn new(lines: Lines) -> Feed {
        Feed {
            lines: Mutex::new(lines),
            stopped: AtomicBool::new(false),
            input_error: Mutex::new(None),
        }
    }

    /// A feed of targets already at hand (tests, the race).
    pub fn of_targets(targets: impl Iterator<Item = Target> + Send + 'static) -> Feed {
        Feed::new(Box::new(targets.map(|t| Ok(Line::Target(t)))))
    }

    // ANCHOR: next
    /// The next target to fetch, or `None` when there is none left (or the run was
    /// stopped). Lines that are not URLs and targets already saved are dealt with here.
    pub fn next(&self, collector: &Collector) -> Option<Target> {
        loop {
            // Relaxed: the flag publishes no data (the input error has its own lock).
            if self.stopped.load(Ordering::Relaxed) {
                return None;
            }
            let line = {
                let mut lines = self.lines.lock().ok()?;
                lines.next()?
            };
            match line {
                Ok(Line::Target(target)) => {
                    let done = collector.store().is_some_and(|s| s.is_done(target.name()));
                    if !done {
                        return Some(target);
                    }
                    collector.skip();
                }
                Ok(Line::Bad(bad)) => collector.bad_line(bad),
                Err(error) => {
                    if let Ok(mut slot) = self.input_error.lock() {
                        *slot = Some(error);
                    }
                    self.stop();
                    return None;
                }
            }
        }
    }
    // ANCHOR_END: next

    /// No more targets are handed out; workers end after the document in hand.
    pub fn stop(&self) {
        // Relaxed: see `next`; a worker that misses it once fetches one more target.
        self.stopped.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        // Relaxed: see `next`.
        self.stopped.load(Ordering::Relaxed)
    }

    /// The error that ended reading the input early, if one did.
    pub fn take_input_error(&self) -> Option<std::io::Error> {
        self.input_error.lock().ok()?.take()
    }
}
