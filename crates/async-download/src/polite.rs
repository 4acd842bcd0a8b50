//! Politeness to small servers: at most `--per-host N` requests in flight to one host,
//! under the global `--concurrency`, and a host's share opened gradually.
//!
//! Sixty-four workers that all start on one host open sixty-four connections at once.
//! A server with a small listen backlog (Python's `http.server` has 5) drops the SYNs
//! it has no room for, and each dropped one waits for the kernel's retransmit, a second
//! later. Browsers open about six connections to a host; so does this downloader by
//! default (`--per-host 6` with `--urls` or a URL; no limit for the course's own
//! corpus server, built for ten thousand, nor for the library's default [`Options`]).
//!
//! [`HostGate`] hands out a permit per attempt: a worker holds it from the connect
//! (or the reuse of a kept connection) to the end of the response, never across a
//! retry's wait or from one document to the next, so no worker waits for a permit
//! while holding another. A host starts with [`START_PERMITS`] permits and gets one
//! more with each answer received, up to its limit: connections to a host are opened
//! gradually, more only as earlier ones succeed, as TCP's slow start grows a window.
//! And as TCP's window shrinks on a loss, a host loses a permit each time an attempt
//! had to send its SYN again ([`Permit::congested`]): a full listen backlog is a sign
//! of too many connections at once, whatever the limit says.
//!
//! The gate keeps a small entry per host it has seen (a few dozen bytes): a list of a
//! million hosts costs tens of megabytes.
//!
//! [`Options`]: crate::Options

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use sockets::url::Url;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits a host starts with (or its limit, if lower).
pub const START_PERMITS: usize = 2;

/// The per-host limits of one run.
#[derive(Debug)]
pub struct HostGate {
    /// `None`: no limit (every `enter` is free).
    per_host: Option<usize>,
    /// By host name, then by port (a host has one or two).
    hosts: Mutex<Hosts>,
}

#[derive(Debug, Default)]
struct Hosts {
    by_name: HashMap<String, Ports>,
    /// The host asked for last, kept apart: a list holds runs of one host's URLs, and
    /// each attempt of such a run then finds its host with no hashing of its name.
    last: Option<(String, u16, Arc<Host>)>,
}

/// The entries of one host name, by port.
type Ports = Vec<(u16, Arc<Host>)>;

#[derive(Debug)]
struct Host {
    permits: Arc<Semaphore>,
    /// Permits given to the host so far: at most the limit.
    granted: AtomicUsize,
    limit: usize,
}

/// The right to one attempt at a host; given back when dropped.
#[derive(Debug)]
pub struct Permit {
    held: Option<(Arc<Host>, OwnedSemaphorePermit)>,
}

impl HostGate {
    /// A gate letting at most `per_host` attempts to one host at once (`None`, or
    /// `Some(0)`: no limit).
    pub fn new(per_host: Option<usize>) -> HostGate {
        HostGate {
            per_host: per_host.filter(|&n| n > 0),
            hosts: Mutex::new(Hosts::default()),
        }
    }

    /// Waits for a permit to fetch from `url`'s host.
    pub async fn enter(&self, url: &Url) -> Permit {
        let Some(host) = self.host(url) else {
            return Permit { held: None };
        };
        // The semaphore is never closed, so acquiring cannot fail; if it ever did,
        // going on without a permit is better than stopping.
        match host.permits.clone().acquire_owned().await {
            Ok(permit) => Permit {
                held: Some((host, permit)),
            },
            Err(_) => Permit { held: None },
        }
    }

    /// [`enter`](HostGate::enter) for a blocking thread: parks it until a permit is
    /// free.
    pub fn enter_blocking(&self, url: &Url) -> Permit {
        block_on(self.enter(url))
    }

    fn host(&self, url: &Url) -> Option<Arc<Host>> {
        let limit = self.per_host?;
        // Only inserted into: a panic elsewhere leaves the map whole.
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((name, port, host)) = &hosts.last {
            if *port == url.port && *name == url.host {
                return Some(host.clone());
            }
        }
        // Looked up by reference, the key made only for a host seen the first time:
        // every attempt passes here.
        let ports = match hosts.by_name.get_mut(url.host.as_str()) {
            Some(ports) => ports,
            None => hosts.by_name.entry(url.host.clone()).or_default(),
        };
        let host = match ports.iter().find(|(port, _)| *port == url.port) {
            Some((_, host)) => host.clone(),
            None => {
                let start = START_PERMITS.min(limit);
                let host = Arc::new(Host {
                    permits: Arc::new(Semaphore::new(start)),
                    granted: AtomicUsize::new(start),
                    limit,
                });
                ports.push((url.port, host.clone()));
                host
            }
        };
        // The name's buffer is reused: a list that alternates hosts allocates nothing.
        match &mut hosts.last {
            Some((name, port, last)) => {
                name.clear();
                name.push_str(&url.host);
                *port = url.port;
                *last = host.clone();
            }
            None => hosts.last = Some((url.host.clone(), url.port, host.clone())),
        }
        Some(host)
    }
}

impl Permit {
    /// The attempt got an answer: the host may have one more connection, up to its
    /// limit.
    pub fn answered(&self) {
        if let Some((host, _)) = &self.held {
            // AcqRel is more than a count needs (the semaphore orders its permits).
            let grown = host
                .granted
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < host.limit).then_some(n + 1)
                })
                .is_ok();
            if grown {
                host.permits.add_permits(1);
            }
        }
    }
}

impl Permit {
    /// The attempt's connect had to send its SYN again (see
    /// [`crate::wire::FIRST_SYN_WAIT`]): the host keeps one permit fewer (never fewer
    /// than one); this one is not given back. Answers grow it again later.
    pub fn congested(mut self) {
        if let Some((host, permit)) = self.held.take() {
            // AcqRel like `answered`: a count, where Relaxed would do.
            let shrunk = host
                .granted
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n > 1).then_some(n - 1)
                })
                .is_ok();
            if shrunk {
                permit.forget();
            }
        }
    }
}

/// Runs `future` on this thread, parking it while the future waits.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A spurious wake-up only polls again.
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str) -> Url {
        Url::parse(&format!("http://{host}/")).unwrap()
    }

    /// Polls `enter` once: `Some` if a permit was free.
    fn try_enter(gate: &HostGate, u: &Url) -> Option<Permit> {
        let mut future = std::pin::pin!(gate.enter(u));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(permit) => Some(permit),
            Poll::Pending => None,
        }
    }

    #[test]
    fn a_host_starts_with_two_and_grows_by_one_an_answer_up_to_its_limit() {
        let gate = HostGate::new(Some(3));
        let (a, b) = (url("a"), url("b"));
        let first = try_enter(&gate, &a).expect("one");
        let second = try_enter(&gate, &a).expect("two");
        assert!(
            try_enter(&gate, &a).is_none(),
            "a third waits for an answer"
        );
        // Another host has its own permits.
        let other = try_enter(&gate, &b).expect("host b");
        first.answered();
        let third = try_enter(&gate, &a).expect("one more after an answer");
        assert!(try_enter(&gate, &a).is_none());
        // At the limit, answers grow nothing more.
        second.answered();
        third.answered();
        assert!(try_enter(&gate, &a).is_none(), "never more than 3 at once");
        drop(first);
        let again = try_enter(&gate, &a).expect("a permit given back is used again");
        assert!(try_enter(&gate, &a).is_none());
        drop((second, third, again, other));
    }

    /// The host asked for last is answered apart from the map: it must be the very
    /// host the map holds, whatever order hosts and ports come in.
    #[test]
    fn each_host_and_port_has_one_set_of_permits_whatever_the_order() {
        let gate = HostGate::new(Some(2));
        let on_port = |host: &str, port: u16| Url { port, ..url(host) };
        let order = [
            ("a", 1),
            ("a", 1),
            ("b", 1),
            ("a", 2),
            ("a", 1),
            ("b", 1),
            ("a", 2),
        ];
        let mut held = Vec::new();
        for (host, port) in order {
            held.push(try_enter(&gate, &on_port(host, port)));
        }
        // Two permits each: a:1 has given both, the third waits; b:1 and a:2 one left.
        let given: Vec<bool> = held.iter().map(Option::is_some).collect();
        assert_eq!(given, [true, true, true, true, false, true, true]);
        assert!(try_enter(&gate, &on_port("b", 1)).is_none());
        assert!(try_enter(&gate, &on_port("a", 2)).is_none());
        assert!(
            try_enter(&gate, &on_port("a", 3)).is_some(),
            "a port of its own"
        );
        assert!(
            try_enter(&gate, &on_port("ab", 1)).is_some(),
            "a name of its own"
        );
    }

    #[test]
    fn a_congested_attempt_takes_a_permit_away_but_never_the_last() {
        let gate = HostGate::new(Some(6));
        let a = url("a");
        let first = try_enter(&gate, &a).expect("one");
        let second = try_enter(&gate, &a).expect("two");
        first.answered();
        let third = try_enter(&gate, &a).expect("three, after an answer");
        assert!(try_enter(&gate, &a).is_none(), "3 granted, 3 held");
        // Each congested attempt takes its permit away: 3 granted, then 1.
        second.congested();
        third.congested();
        assert!(try_enter(&gate, &a).is_none(), "neither came back");
        drop(first);
        let only = try_enter(&gate, &a).expect("the last permit stays");
        assert!(try_enter(&gate, &a).is_none(), "only one left");
        only.congested();
        let still = try_enter(&gate, &a).expect("never fewer than one");
        still.answered();
        let grown = try_enter(&gate, &a).expect("answers grow it again");
        drop((still, grown));
    }

    #[test]
    fn no_limit_never_waits_and_a_blocking_thread_gets_its_permit() {
        let gate = HostGate::new(None);
        let u = url("a");
        let held: Vec<Permit> = (0..100).map(|_| try_enter(&gate, &u).unwrap()).collect();
        assert_eq!(held.len(), 100);
        let gate = Arc::new(HostGate::new(Some(1)));
        let first = gate.enter_blocking(&u);
        let waiter = std::thread::spawn({
            let gate = gate.clone();
            move || {
                let permit = gate.enter_blocking(&url("a"));
                drop(permit);
            }
        });
        drop(first); // wakes the waiting thread
        waiter.join().expect("the waiter got its permit");
    }
}
