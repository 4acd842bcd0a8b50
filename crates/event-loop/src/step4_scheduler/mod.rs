//! Step 4 (being written).

pub mod fetch;
