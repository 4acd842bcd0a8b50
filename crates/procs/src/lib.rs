//! Lesson 1: processes.
pub mod tour;
