//! Step 3's measurement of a loop turn, with small counts held in this process: it
//! runs, finds exactly the active descriptors ready, and closes everything it opened.
//! (The figures themselves are the tour's: no timing is asserted here.) And the
//! descriptor limit: raised when it can be, a clear error when it cannot.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use event_loop::step3_mio::{Holder, TurnCostError, hold_connections, room_for_fds, turn_cost};

#[test]
fn turn_cost_with_a_hundred_idle_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The holder's deadline only ends it if the measurement never closes its
    // connections: 20 s, for a measurement of milliseconds.
    let holder = std::thread::spawn(move || {
        hold_connections(listener, 100, Instant::now() + Duration::from_secs(20))
    });
    let cost = turn_cost(addr, 100, 3, 50).unwrap();
    assert_eq!((cost.idle, cost.active), (100, 3));
    assert_eq!(
        cost.mismatched, 0,
        "every wait found exactly the 3 active ones"
    );
    assert_eq!((cost.poll.trials, cost.epoll.trials), (50, 50));
    assert!(cost.poll_ns() > 0.0 && cost.epoll_ns() > 0.0, "{cost:?}");
    assert!(cost.ratio().is_finite());
    // The connections were closed on return: the holder saw all of them go, and ended.
    let held = holder.join().unwrap().unwrap();
    assert_eq!(held.accepted, 100);
    // Not `most_open == 100`: the kernel completes a handshake before the holder accepts
    // it, so on a busy machine the holder's thread may accept the last connections after
    // the measurement has closed the first ones, and never hold all 100 at once.
    assert!((1..=100).contains(&held.most_open), "{held:?}");
    assert!(!held.timed_out, "{held:?}");
}

#[test]
fn no_idle_connections_is_a_valid_size() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let cost = turn_cost(listener.local_addr().unwrap(), 0, 2, 10).unwrap();
    assert_eq!(cost.mismatched, 0);
    assert!(matches!(
        turn_cost(listener.local_addr().unwrap(), 0, 1, 0),
        Err(TurnCostError::Invalid { .. })
    ));
}

#[test]
fn the_holder_gives_up_at_its_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let held = hold_connections(listener, 5, Instant::now() + Duration::from_millis(100)).unwrap();
    // Guards against a hang (nobody connects: only the deadline can end it); the
    // behaviour itself is `timed_out`.
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(held.timed_out);
    assert_eq!(held.accepted, 0);
}

#[test]
fn the_descriptor_limit_is_raised_or_the_error_says_what_to_do() {
    let limit = room_for_fds(16).unwrap();
    assert!(limit.soft >= 16 && limit.hard >= limit.soft);
    let error = room_for_fds(u64::MAX - 1).unwrap_err();
    let TurnCostError::TooFewFds { needed, hard, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!((*needed, *hard), (u64::MAX - 1, limit.hard));
    let message = error.to_string();
    assert!(message.contains("ulimit -n"), "{message}");
    assert!(
        message.contains(&format!("at most {}", limit.hard)),
        "{message}"
    );
}

#[test]
fn a_holder_that_says_nothing_useful_is_an_error_not_a_hang() {
    let start = Instant::now();
    let mut silent = Command::new("sh");
    silent.args(["-c", "echo not-an-address"]);
    let error = Holder::spawn_command(silent).unwrap_err();
    assert!(error.to_string().contains("not-an-address"), "{error}");
    let mut quiet = Command::new("true");
    quiet.arg("ignored");
    let error = Holder::spawn_command(quiet).unwrap_err();
    assert!(error.to_string().contains("closed its stdout"), "{error}");
    // Guards against a hang: both commands exit at once, and starting two processes
    // takes milliseconds even on a busy machine.
    assert!(start.elapsed() < Duration::from_secs(10));
}
