//! Exercise `event-loop/select`: the first of two futures wins; the other is dropped.
//!
//! Cancellation in async Rust is just `drop`: a future that is no longer polled does
//! nothing more, and dropping it releases what it holds (a socket closes, a timer is
//! cancelled). `select` is how a timeout, a Ctrl-C, or a race between two servers is
//! written.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Which future finished first, with its output.
#[derive(Debug, PartialEq, Eq)]
pub enum Either<A, B> {
    Left(A),
    Right(B),
}

/// The future returned by [`select`].
// Holds futures, which have no Debug.
#[allow(missing_debug_implementations)]
pub struct Select<A, B> {
    left: Option<Pin<Box<A>>>,
    right: Option<Pin<Box<B>>>,
}

/// Polls `left` and `right` until one is ready; returns its output and drops the other
/// right away (before returning). If both are ready in the same poll, `left` wins: `right`
/// is not even polled then. While neither is ready, `Pending` wakes nothing itself: the
/// inner futures wake the task.
pub fn select<A: Future, B: Future>(left: A, right: B) -> Select<A, B> {
    Select {
        left: Some(Box::pin(left)),
        right: Some(Box::pin(right)),
    }
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // BEGIN SOLUTION
        let this = self.get_mut();
        if let Some(left) = this.left.as_mut() {
            if let Poll::Ready(value) = left.as_mut().poll(cx) {
                this.left = None;
                this.right = None; // the loser is dropped now: its resources go with it
                return Poll::Ready(Either::Left(value));
            }
        }
        if let Some(right) = this.right.as_mut() {
            if let Poll::Ready(value) = right.as_mut().poll(cx) {
                this.left = None;
                this.right = None;
                return Poll::Ready(Either::Right(value));
            }
        }
        Poll::Pending
        // END SOLUTION
    }
}
