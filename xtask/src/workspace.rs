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

#[cfg(test)]
mod tests {
    use super::*;

    /// The oldest Rust the README promises, as `Cargo.toml` declares it.
    fn promised() -> Vec<u64> {
        let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        let table: toml::Table = toml::from_str(&manifest).unwrap();
        let version = table["workspace"]["package"]["rust-version"]
            .as_str()
            .unwrap();
        numbers(version)
    }

    fn numbers(version: &str) -> Vec<u64> {
        let mut parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap()).collect();
        parts.resize(3, 0);
        parts
    }

    /// Every package the workspace builds, its own and its dependencies in Cargo.lock,
    /// declares a `rust-version` no newer than the one the README promises. (The CI job
    /// on that toolchain builds and tests the workspace; this catches a dependency
    /// update that would break it, here, without that toolchain.)
    #[test]
    fn no_package_needs_a_newer_rust_than_the_readme_promises() {
        let out = std::process::Command::new(cargo())
            .current_dir(root())
            .args(["metadata", "--format-version", "1", "--locked"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let promised = promised();
        let mut newer = Vec::new();
        let packages = metadata["packages"].as_array().unwrap();
        for p in packages {
            if let Some(needs) = p["rust_version"].as_str() {
                if numbers(needs) > promised {
                    newer.push(format!("{} {} needs Rust {needs}", p["name"], p["version"]));
                }
            }
        }
        assert!(packages.len() > 50, "{} packages", packages.len());
        assert!(newer.is_empty(), "{newer:?}");
    }
}
