//! Lesson 1's claims: each a decision over the figures the tour measures, and beside it
//! the figures of a world where it is false.
//!
//! The tour (`src/main.rs`) measures and calls [`crate::tour::Tour::judge`] with one of
//! these; `cargo xtask claims --falsify` decides each on its wrong world and requires it
//! to fail. A decision reads only its figures (see [`crate::claim`]), so the statement
//! a learner reads and the verdict they see come from the same numbers.

use crate::claim::{
    ClaimDef, Decision, Inputs, all, at_least, below, equals, fact, ratio_at_least, within,
};
use crate::tour::fmt_bytes;

/// Every claim of the lesson, in the order the tour makes them.
pub const ALL: &[ClaimDef] = &[
    TREE_ENDS_AT_ROOT,
    FORK_COPIES,
    EXEC_COSTS,
    WAITING_PROCESS_RSS,
    LAZY_MEMORY,
    FORK_GROWS,
    FORK_DOES_NOT_COPY,
    FORK_CHEAPER_THAN_COPY,
    PAGE_TABLES,
    COW_FAULTS,
    ZOMBIE,
    NO_ZOMBIES_LEFT,
];

/// The chain of parents ends at the root of this PID namespace.
pub const TREE_ENDS_AT_ROOT: ClaimDef = ClaimDef {
    id: "tree-ends-at-1",
    decide: |inputs| {
        let root = inputs.value("root pid")?;
        let parent = inputs.value("root's parent pid")?;
        // PID 1 is the namespace's first process. A process entered into the namespace
        // from outside (docker exec, nsenter) has its real parent in another namespace,
        // which this namespace shows as 0: the chain then ends there, for that reason.
        // PID 2 is the kernel's threads' parent, never a user process's ancestor.
        let ends_at_root = parent == 0.0 && root != 2.0 && root >= 1.0;
        let how = if root == 1.0 {
            "PID 1".to_string()
        } else if ends_at_root {
            format!("pid {root}, entered from outside this PID namespace (its parent shows as 0)")
        } else {
            format!("pid {root}, whose parent is {parent}: not a root")
        };
        Ok(Decision::new(
            "the chain of parents ends at the root of this PID namespace (PID 1, or a process \
             entered from outside it)",
            (
                fact(ends_at_root),
                format!("{} steps up to {how}", inputs.value("steps")?),
            ),
        ))
    },
    wrong: "a walk that stops one step early, at a shell whose parent is PID 1",
    wrong_world: || {
        Inputs::new()
            .with("root pid", 812.0, "")
            .with("root's parent pid", 1.0, "")
            .with("steps", 3.0, "")
    },
};

/// fork gives the child a copy: a change there is not seen here.
pub const FORK_COPIES: ClaimDef = ClaimDef {
    id: "fork-copies",
    decide: |inputs| {
        let parent = inputs.value("value in the parent after the child ran")?;
        let child = inputs.value("value the child saw after adding 1")?;
        let started = inputs.value("value before fork")?;
        Ok(Decision::new(
            "a variable changed in the child is unchanged in the parent",
            (
                fact(parent == started && child == started + 1.0),
                format!("it was {started}; the parent still has {parent}, the child had {child}"),
            ),
        ))
    },
    wrong: "fork shares memory like a thread: the parent sees the child's change",
    wrong_world: || {
        Inputs::new()
            .with("value before fork", 41.0, "")
            .with("value in the parent after the child ran", 42.0, "")
            .with("value the child saw after adding 1", 42.0, "")
    },
};

/// exec is the dear part of starting a program.
pub const EXEC_COSTS: ClaimDef = ClaimDef {
    id: "exec-costs",
    decide: |inputs| {
        Ok(Decision::new(
            "loading a program (exec) makes a spawn at least 2x dearer in CPU time than fork alone",
            ratio_at_least(
                inputs.get("fork+exec+wait CPU")?,
                inputs.get("fork+_exit+wait CPU")?,
                2.0,
            ),
        ))
    },
    wrong: "exec costs next to nothing beyond the fork (a program mapped for free)",
    wrong_world: || {
        Inputs::new()
            .with_rounds("fork+exec+wait CPU", &[130.0, 135.0, 128.0], "µs")
            .with_rounds("fork+_exit+wait CPU", &[100.0, 104.0, 98.0], "µs")
    },
};

/// A waiting forked process's RSS counts the pages it shares: what it costs is far less.
pub const WAITING_PROCESS_RSS: ClaimDef = ClaimDef {
    id: "waiting-process-rss-misleads",
    decide: |inputs| {
        Ok(Decision::new(
            "a waiting forked process's RSS is at least 3x its unique pages (USS): most of \
             what ps shows for it is shared with its parent, not its own",
            ratio_at_least(
                inputs.get("RSS per process")?,
                inputs.get("USS per process")?,
                3.0,
            ),
        ))
    },
    wrong: "fork copies every page at once, so a child's pages are all its own (USS = RSS)",
    wrong_world: || {
        Inputs::new()
            .with_rounds(
                "RSS per process",
                &[401_408.0, 397_312.0, 405_504.0],
                "bytes",
            )
            .with_rounds(
                "USS per process",
                &[389_120.0, 385_024.0, 393_216.0],
                "bytes",
            )
    },
};

/// Mapped memory is not resident until touched.
pub const LAZY_MEMORY: ClaimDef = ClaimDef {
    id: "lazy-memory",
    decide: |inputs| {
        let size = inputs.value("region")?;
        let mapped = inputs.get("added by mapping")?;
        let touched = inputs.get("added by touching")?;
        let (by_mapping, text_m) = below(mapped, size * 0.01);
        let (by_touching, text_t) = at_least(touched, size * 0.9);
        Ok(Decision::new(
            "mapping memory adds under 1% of it to RSS; touching it adds at least 90%",
            (
                all([by_mapping, by_touching]),
                format!(
                    "of {}: mapping added {text_m}, touching added {text_t}",
                    fmt_bytes(size)
                ),
            ),
        ))
    },
    wrong: "memory is made resident when it is mapped (an eager allocator)",
    wrong_world: || {
        let size = 64.0 * 1024.0 * 1024.0;
        Inputs::new()
            .with("region", size, "bytes")
            .with("added by mapping", size, "bytes")
            .with("added by touching", 0.0, "bytes")
    },
};

// ANCHOR: fork_grows
/// fork's cost grows with the memory the parent has touched (its page tables).
pub const FORK_GROWS: ClaimDef = ClaimDef {
    id: "fork-grows",
    decide: |inputs| {
        let big = inputs.value("largest region")?;
        let small = inputs.value("smallest region")?;
        Ok(Decision::new(
            format!(
                "fork of a {} process costs at least 3x a {} one",
                fmt_bytes(big),
                fmt_bytes(small)
            ),
            ratio_at_least(
                inputs.get("fork, largest region")?,
                inputs.get("fork, smallest region")?,
                3.0,
            ),
        ))
    },
    wrong: "fork's cost does not depend on memory (page tables shared, nothing per page)",
    wrong_world: || {
        Inputs::new()
            .with("largest region", 512.0 * 1024.0 * 1024.0, "bytes")
            .with("smallest region", 1024.0 * 1024.0, "bytes")
            .with_rounds("fork, largest region", &[95.0, 99.0, 104.0], "µs")
            .with_rounds("fork, smallest region", &[80.0, 84.0, 90.0], "µs")
    },
};
// ANCHOR_END: fork_grows

/// While the child lives, the parent's written pages are shared with it, not copied.
pub const FORK_DOES_NOT_COPY: ClaimDef = ClaimDef {
    id: "fork-does-not-copy",
    decide: |inputs| {
        let len = inputs.value("written before fork")?;
        let (shared_enough, shared) = at_least(inputs.get("shared with the child")?, 0.95 * len);
        let (private_little, private) = below(inputs.get("private to the parent")?, 0.05 * len);
        Ok(Decision::new(
            format!(
                "while the child lives, the {} the parent wrote are shared with it, not \
                 copied (smaps: Shared_Dirty at least 95%, Private_Dirty under 5%)",
                fmt_bytes(len)
            ),
            (
                all([shared_enough, private_little]),
                format!("shared {shared}; private {private}"),
            ),
        ))
    },
    wrong: "fork copies the parent's memory at once (no copy-on-write)",
    wrong_world: || {
        let len = 512.0 * 1024.0 * 1024.0;
        Inputs::new()
            .with("written before fork", len, "bytes")
            .with("shared with the child", 0.0, "bytes")
            .with("private to the parent", len, "bytes")
    },
};

/// What sharing saves, in time.
pub const FORK_CHEAPER_THAN_COPY: ClaimDef = ClaimDef {
    id: "fork-cheaper-than-copy",
    decide: |inputs| {
        let len = fmt_bytes(inputs.value("largest region")?);
        Ok(Decision::new(
            format!("copying {len} costs at least 1.5x a fork with {len} touched"),
            ratio_at_least(
                inputs.get("copy of the region")?,
                inputs.get("fork with the region")?,
                1.5,
            ),
        ))
    },
    wrong: "fork copies every page, so it costs what a copy costs and more",
    wrong_world: || {
        Inputs::new()
            .with("largest region", 512.0 * 1024.0 * 1024.0, "bytes")
            .with_rounds("copy of the region", &[98_000.0, 101_000.0, 99_000.0], "µs")
            .with_rounds(
                "fork with the region",
                &[121_000.0, 130_000.0, 125_000.0],
                "µs",
            )
    },
};

/// Page tables: 8 bytes per page touched.
pub const PAGE_TABLES: ClaimDef = ClaimDef {
    id: "page-tables",
    decide: |inputs| {
        let expected = inputs.value("expected per MiB")?;
        let measured = inputs.get("page tables per MiB touched")?;
        let (verdict, text) = within(measured, 0.8 * expected, 1.5 * expected);
        Ok(Decision::new(
            "page tables grow by 8 bytes per page touched (what fork copies)",
            (
                verdict,
                format!("{text}; {} per MiB expected", fmt_bytes(expected)),
            ),
        ))
    },
    wrong: "huge pages: one 8-byte entry per 2 MiB, so the tables barely grow",
    wrong_world: || {
        Inputs::new()
            .with("page tables per MiB touched", 4.0, "bytes")
            .with("expected per MiB", 2048.0, "bytes")
    },
};

/// Copy-on-write copies page by page, on write.
pub const COW_FAULTS: ClaimDef = ClaimDef {
    id: "cow-faults",
    decide: |inputs| {
        Ok(Decision::new(
            "a child that writes k shared pages takes about k page faults",
            within(inputs.get("faults per page written")?, 0.9, 1.1),
        ))
    },
    wrong: "fork copied everything up front: writing takes no fault at all",
    wrong_world: || Inputs::new().with("faults per page written", 0.0, ""),
};

/// An exited child stays a zombie until waited for.
pub const ZOMBIE: ClaimDef = ClaimDef {
    id: "zombie",
    decide: |inputs| {
        let zombie = inputs.value("state Z seen before wait")?;
        let after = inputs.value("still in /proc after wait")?;
        Ok(Decision::new(
            "an exited child is a zombie until waited for, and gone after",
            (
                fact(zombie == 1.0 && after == 0.0),
                format!(
                    "{} before wait, {} after",
                    if zombie == 1.0 {
                        "a zombie"
                    } else {
                        "no zombie"
                    },
                    if after == 0.0 { "gone" } else { "present" }
                ),
            ),
        ))
    },
    wrong: "the kernel forgets a child when it exits, before anyone waits",
    wrong_world: || {
        Inputs::new()
            .with("state Z seen before wait", 0.0, "")
            .with("still in /proc after wait", 0.0, "")
    },
};

/// The tour reaped every child it made.
pub const NO_ZOMBIES_LEFT: ClaimDef = ClaimDef {
    id: "no-zombies-left",
    decide: |inputs| {
        Ok(Decision::new(
            "the tour leaves no zombie behind",
            equals(inputs.get("zombies left")?, 0.0),
        ))
    },
    wrong: "an error path that returns before waiting for its child",
    wrong_world: || Inputs::new().with("zombies left", 3.0, ""),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::Verdict;

    #[test]
    fn every_claim_fails_in_its_wrong_world() {
        let problems = crate::claim::wrong_world_problems(ALL);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn the_tree_claim_holds_at_pid_1_and_for_a_process_entered_from_outside() {
        let tree = |root: f64, parent: f64| {
            TREE_ENDS_AT_ROOT
                .judge(
                    Inputs::new()
                        .with("root pid", root, "")
                        .with("root's parent pid", parent, "")
                        .with("steps", 4.0, ""),
                )
                .verdict
        };
        assert_eq!(tree(1.0, 0.0), Verdict::Held);
        // docker exec: the shell's parent lives outside the container's namespace.
        assert_eq!(tree(57.0, 0.0), Verdict::Held);
        assert_eq!(tree(2.0, 0.0), Verdict::Failed);
        assert_eq!(tree(57.0, 12.0), Verdict::Failed);
    }
}
