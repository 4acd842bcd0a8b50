//! Where the workspace is and which `cargo` to call.
//!
//! xtask is started by `cargo xtask ...` from anywhere inside the repository, so the
//! current directory tells us nothing. The crate's own location does: xtask lives in
//! `<root>/xtask`, so the workspace root is its manifest directory's parent.

use std::ffi::OsString;
use std::path::PathBuf;

/// The workspace root: the folder holding the top `Cargo.toml`, `crates/` and `docs/`.
pub fn root() -> PathBuf {
    // Cargo sets CARGO_MANIFEST_DIR when it runs us; the compile-time value is the
    // fallback for a binary started by hand (`target/debug/xtask`).
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    match manifest_dir.parent() {
        Some(parent) => parent.to_path_buf(),
        None => manifest_dir,
    }
}

/// The `cargo` that started us (Cargo passes its own path in `CARGO`), so the lessons are
/// built by the same toolchain as xtask itself; plain `cargo` from PATH otherwise.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}
