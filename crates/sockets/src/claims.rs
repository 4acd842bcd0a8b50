//! Lesson 3's claims: each a decision over the figures the tour measures, and beside it
//! the figures of a world where it is false (see `procs::claim`).

use procs::claim::{
    ClaimDef, Decision, Inputs, all, at_least, equals, ratio_at_least, ratio_at_most,
};

/// Every claim of the lesson, in the order the tour makes them.
pub const ALL: &[ClaimDef] = &[
    BY_HAND,
    THREADS_OVERLAP_WAITS,
    MOSTLY_WAITING,
    MEMORY_GROWS,
    DOWNLOADS_COMPLETE,
    FAULTS_HANDLED,
];

/// The faults the tour injects, each with the outcome it must give.
pub const FAULT_KINDS: [&str; 6] = [
    "drop",
    "unavailable",
    "truncate",
    "chunked",
    "close",
    "drip",
];

/// A hand-written request gets a whole document.
pub const BY_HAND: ClaimDef = ClaimDef {
    id: "by-hand",
    decide: |inputs| {
        let (status, status_text) = equals(inputs.get("status")?, 200.0);
        let (verified, _) = equals(inputs.get("checksum matches")?, 1.0);
        Ok(Decision::new(
            "a request written by hand gets a complete, verified document",
            (
                all([status, verified]),
                format!(
                    "status {status_text}, checksum {}",
                    if verified == procs::claim::Verdict::Held {
                        "matches"
                    } else {
                        "DOES NOT match"
                    }
                ),
            ),
        ))
    },
    wrong: "a response read until the first read() returned: the body comes back cut short",
    wrong_world: || {
        Inputs::new()
            .with("status", 200.0, "")
            .with("checksum matches", 0.0, "")
    },
};

/// Threads overlap the waiting.
pub const THREADS_OVERLAP_WAITS: ClaimDef = ClaimDef {
    id: "threads-overlap-waits",
    decide: |inputs| {
        Ok(Decision::new(
            "with 5 ms of latency, 64 threads download at least 5x faster than 1",
            ratio_at_least(inputs.get("64 threads")?, inputs.get("1 thread")?, 5.0),
        ))
    },
    wrong: "a client that holds one lock for each whole exchange: one request at a time",
    wrong_world: || {
        Inputs::new()
            .with("64 threads", 186.0, "docs/s")
            .with("1 thread", 181.0, "docs/s")
    },
};

/// A downloading thread mostly waits.
pub const MOSTLY_WAITING: ClaimDef = ClaimDef {
    id: "mostly-waiting",
    decide: |inputs| {
        Ok(Decision::new(
            "when downloads wait on the network, the client's CPU time is a small part of \
             its wall time",
            ratio_at_most(
                inputs.get("CPU time, 8 threads")?,
                inputs.get("wall time, 8 threads")?,
                0.5,
            ),
        ))
    },
    wrong: "a client that spins on a non-blocking socket while it waits",
    wrong_world: || {
        Inputs::new()
            .with("CPU time, 8 threads", 1_950.0, "ms")
            .with("wall time, 8 threads", 1_000.0, "ms")
    },
};

/// Each thread costs memory.
pub const MEMORY_GROWS: ClaimDef = ClaimDef {
    id: "memory-grows",
    decide: |inputs| {
        let most = inputs.value("threads, most")?;
        Ok(Decision::new(
            format!(
                "memory grows with threads: each of {most} threads adds at least 4 KiB",
                most = procs::tour::fmt_number(most)
            ),
            at_least(inputs.get("RSS per extra thread")?, 4096.0),
        ))
    },
    wrong: "threads that cost no memory of their own (no stack, no buffer)",
    wrong_world: || {
        Inputs::new()
            .with("threads, most", 512.0, "")
            .with("RSS per extra thread", 0.0, "bytes")
    },
};

/// Every document arrives whole.
pub const DOWNLOADS_COMPLETE: ClaimDef = ClaimDef {
    id: "downloads-complete",
    decide: |inputs| {
        let total = inputs.value("documents")?;
        let (verdict, text) = equals(inputs.get("documents failed")?, 0.0);
        Ok(Decision::new(
            "every document arrives complete (checksum verified)",
            (verdict, format!("{text} failed of {total}")),
        ))
    },
    wrong: "a client that loses a response when the server closes an idle keep-alive connection",
    wrong_world: || {
        Inputs::new()
            .with("documents", 20_000.0, "")
            .with("documents failed", 12.0, "")
    },
};

/// Every fault gives a document or a clear error, in bounded time.
pub const FAULTS_HANDLED: ClaimDef = ClaimDef {
    id: "faults-handled",
    decide: |inputs| {
        let mut verdicts = Vec::new();
        let mut words = Vec::new();
        for kind in FAULT_KINDS {
            let fine = inputs.value(&format!("{kind}: as expected"))? == 1.0;
            verdicts.push(procs::claim::fact(fine));
            words.push(format!(
                "{kind}: {}",
                if fine { "as expected" } else { "UNEXPECTED" }
            ));
        }
        // A timeout is a bound, not a measurement: 10 s is twice the client's 5 s limit.
        let (bounded, slowest) = procs::claim::below(inputs.get("slowest fault")?, 10.0);
        verdicts.push(bounded);
        Ok(Decision::new(
            "every injected fault gives a verified document or a clear error, in bounded time",
            (
                all(verdicts),
                format!("{}; slowest {slowest}", words.join(", ")),
            ),
        ))
    },
    wrong: "a client that takes a body cut short as complete, and waits forever on a drip",
    wrong_world: || {
        FAULT_KINDS
            .iter()
            .fold(Inputs::new(), |inputs, kind| {
                let fine = !matches!(*kind, "truncate" | "drip");
                inputs.with(
                    &format!("{kind}: as expected"),
                    f64::from(u8::from(fine)),
                    "",
                )
            })
            .with("slowest fault", 600.0, "s")
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
