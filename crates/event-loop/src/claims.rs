//! Lesson 4's claims: each a decision over the figures the tour measures, and beside it
//! the figures of a world where it is false (see `procs::claim`).

use procs::claim::{ClaimDef, Decision, Inputs, all, at_least, below, equals, ratio_at_least};

/// Every claim of the lesson, in the order the tour makes them.
pub const ALL: &[ClaimDef] = &[
    BUSY_BURNS,
    LOOPS_COMPLETE,
    EPOLL_SCALES,
    POLL_GROWS_EPOLL_NOT,
    HAND_EQUALS_ASYNC,
    BUFFER_IN_FUTURE,
    NO_BUSY_WAIT,
    EXECUTOR_DOWNLOADS,
    C10K_HELD,
    CONNECTION_LIGHTER,
];

/// Spinning on WouldBlock burns a core; poll(2) sleeps.
pub const BUSY_BURNS: ClaimDef = ClaimDef {
    id: "busy-burns",
    decide: |inputs| {
        Ok(Decision::new(
            "the busy loop burns at least 10x the CPU of poll(2) for the same downloads",
            ratio_at_least(inputs.get("busy loop")?, inputs.get("poll(2)")?, 10.0),
        ))
    },
    wrong: "a \"busy\" loop that sleeps between tries, so it hardly burns more than poll",
    wrong_world: || {
        Inputs::new()
            .with("busy loop", 31.0, "ms")
            .with("poll(2)", 19.0, "ms")
    },
};

/// All three loops deliver every document.
pub const LOOPS_COMPLETE: ClaimDef = ClaimDef {
    id: "loops-complete",
    decide: |inputs| {
        let (ok, ok_text) = equals(
            inputs.get("documents verified")?,
            inputs.value("documents asked for")?,
        );
        let (none_failed, failed_text) = equals(inputs.get("documents failed")?, 0.0);
        Ok(Decision::new(
            "all three loops deliver every document, verified",
            (
                all([ok, none_failed]),
                format!("{ok_text} verified, {failed_text} failed"),
            ),
        ))
    },
    wrong: "a loop that forgets a connection whose response is still half read at the end",
    wrong_world: || {
        Inputs::new()
            .with("documents asked for", 150.0, "")
            .with("documents verified", 147.0, "")
            .with("documents failed", 3.0, "")
    },
};

/// An epoll turn does not pay for idle connections; a poll turn does.
pub const EPOLL_SCALES: ClaimDef = ClaimDef {
    id: "epoll-scales",
    decide: |inputs| {
        let idle = inputs.value("idle connections")?;
        let min_ratio = if idle >= 10_000.0 { 50.0 } else { 10.0 };
        Ok(Decision::new(
            format!(
                "with {idle} idle connections, a poll(2) turn costs at least {min_ratio}x an epoll turn",
                idle = procs::tour::fmt_number(idle)
            ),
            ratio_at_least(
                inputs.get("poll(2) turn")?,
                inputs.get("epoll turn")?,
                min_ratio,
            ),
        ))
    },
    wrong: "an epoll that scans every registered descriptor on each call, as poll does",
    wrong_world: || {
        Inputs::new()
            .with("idle connections", 10_000.0, "")
            .with("poll(2) turn", 3_100.0, "µs")
            .with("epoll turn", 2_900.0, "µs")
    },
};

/// poll's turn grows with the idle connections; epoll's does not.
pub const POLL_GROWS_EPOLL_NOT: ClaimDef = ClaimDef {
    id: "poll-grows-epoll-not",
    decide: |inputs| {
        let few = inputs.value("idle connections, fewest")?;
        let most = inputs.value("idle connections, most")?;
        let (grows, grows_text) = at_least(inputs.get("poll growth")?, 5.0);
        let (flat, flat_text) = below(inputs.get("epoll growth")?, 5.0);
        Ok(Decision::new(
            format!(
                "from {few} to {most} idle, poll's turn grows with them, epoll's does not",
                most = procs::tour::fmt_number(most),
                few = procs::tour::fmt_number(few)
            ),
            (
                all([grows, flat]),
                format!("poll(2) grew {grows_text}, epoll {flat_text}"),
            ),
        ))
    },
    wrong: "an epoll whose turn grows with the descriptors registered, like poll's",
    wrong_world: || {
        Inputs::new()
            .with("idle connections, fewest", 100.0, "")
            .with("idle connections, most", 10_000.0, "")
            .with("poll growth", 80.0, "x")
            .with("epoll growth", 75.0, "x")
    },
};

/// The state machine written by hand and the compiler's fetch the same documents.
pub const HAND_EQUALS_ASYNC: ClaimDef = ClaimDef {
    id: "hand-equals-async",
    decide: |inputs| {
        let (all_same, same_text) = equals(
            inputs.get("documents the same from both")?,
            inputs.value("documents asked for")?,
        );
        let (none_failed, failed_text) = equals(inputs.get("fetches failed")?, 0.0);
        let (same_bytes, bytes_text) = equals(
            inputs.get("body bytes, hand-written Future")?,
            inputs.value("body bytes, async fn")?,
        );
        Ok(Decision::new(
            "the hand-written Future and the async fn fetch the same documents, byte for byte",
            (
                all([all_same, none_failed, same_bytes]),
                format!(
                    "{same_text} the same from both, {failed_text} fetches failed, \
                     {bytes_text} body bytes by hand"
                ),
            ),
        ))
    },
    wrong: "a hand-written machine that stops after its first read, as if one read always \
            brought the whole response: larger documents come back cut, and fail their check",
    wrong_world: || {
        Inputs::new()
            .with("documents asked for", 200.0, "")
            .with("documents the same from both", 131.0, "")
            .with("fetches failed", 69.0, "")
            .with("body bytes, hand-written Future", 690_000.0, "")
            .with("body bytes, async fn", 1_560_000.0, "")
    },
};

/// What lives across an `.await` is inside the future.
pub const BUFFER_IN_FUTURE: ClaimDef = ClaimDef {
    id: "buffer-in-future",
    decide: |inputs| {
        let dropped = inputs.value("array dropped before .await")?;
        let (array_inside, array_text) =
            at_least(inputs.get("array held across .await")?, dropped + 4096.0);
        let (vec_outside, vec_text) = below(inputs.get("Vec held across .await")?, dropped + 64.0);
        Ok(Decision::new(
            "a buffer held across an .await is inside the future: a [u8; 4096] adds its \
             4,096 bytes, a Vec<u8> only its handle",
            (
                all([array_inside, vec_outside]),
                format!("with the array {array_text}, with the Vec {vec_text}"),
            ),
        ))
    },
    wrong: "a compiler that kept an async fn's locals on a stack of the task's own between \
            polls, as a thread keeps its stack: the future would hold none of them",
    wrong_world: || {
        Inputs::new()
            .with("array held across .await", 24.0, "B")
            .with("array dropped before .await", 24.0, "B")
            .with("Vec held across .await", 24.0, "B")
    },
};

/// An executor with nothing to do sleeps.
pub const NO_BUSY_WAIT: ClaimDef = ClaimDef {
    id: "no-busy-wait",
    decide: |inputs| {
        Ok(Decision::new(
            "an executor waiting on a 200 ms sleep uses under 10% of a core",
            below(inputs.get("share of a core while waiting")?, 0.10),
        ))
    },
    wrong: "an executor that polls its tasks in a loop until the timer is due",
    wrong_world: || Inputs::new().with("share of a core while waiting", 0.99, ""),
};

/// The async download delivers every document.
pub const EXECUTOR_DOWNLOADS: ClaimDef = ClaimDef {
    id: "executor-downloads",
    decide: |inputs| {
        let (ok, ok_text) = equals(
            inputs.get("documents verified")?,
            inputs.value("documents asked for")?,
        );
        let (none_failed, failed_text) = equals(inputs.get("documents failed")?, 0.0);
        Ok(Decision::new(
            "the async download delivers every document, verified",
            (
                all([ok, none_failed]),
                format!("{ok_text} verified, {failed_text} failed"),
            ),
        ))
    },
    wrong: "a waker that is lost when a response arrives between two polls: tasks hang",
    wrong_world: || {
        Inputs::new()
            .with("documents asked for", 2_000.0, "")
            .with("documents verified", 1_936.0, "")
            .with("documents failed", 64.0, "")
    },
};

/// One thread holds thousands of connections at once.
pub const C10K_HELD: ClaimDef = ClaimDef {
    id: "c10k-held",
    decide: |inputs| {
        let n = inputs.value("connections asked for")?;
        let (held, held_text) = at_least(inputs.get("connections open at once")?, n);
        let (served, served_text) = equals(inputs.get("documents failed")?, 0.0);
        let (accepted, refused_text) = equals(inputs.get("connections refused")?, 0.0);
        Ok(Decision::new(
            format!(
                "one thread holds {n} connections at once and serves every document",
                n = procs::tour::fmt_number(n)
            ),
            (
                all([held, served, accepted]),
                format!(
                    "{held_text} open at once, {served_text} documents failed, \
                     {refused_text} connections refused"
                ),
            ),
        ))
    },
    wrong: "a server that stops accepting when its backlog of 1,024 is full",
    wrong_world: || {
        Inputs::new()
            .with("connections asked for", 10_000.0, "")
            .with("connections open at once", 1_024.0, "")
            .with("documents failed", 0.0, "")
            .with("connections refused", 8_976.0, "")
    },
};

/// A connection in the loop weighs far less than a thread.
pub const CONNECTION_LIGHTER: ClaimDef = ClaimDef {
    id: "connection-lighter",
    decide: |inputs| {
        Ok(Decision::new(
            "a connection in the loop costs at least 10x less resident memory than a thread",
            ratio_at_least(inputs.get("idle thread")?, inputs.get("connection")?, 10.0),
        ))
    },
    wrong: "a connection that keeps a 64 KiB buffer of its own, like a thread keeps a stack",
    wrong_world: || {
        Inputs::new()
            .with("idle thread", 21_000.0, "bytes")
            .with("connection", 70_000.0, "bytes")
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_fails_in_its_wrong_world() {
        let problems = procs::claim::wrong_world_problems(ALL);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
