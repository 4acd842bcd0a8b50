//! `wiki-load` refuses a connection count it cannot run (one thread each) with a clear
//! usage error, instead of panicking when the system refuses a thread.

use std::process::Command;

#[test]
fn too_many_connections_is_a_usage_error_not_a_panic() {
    for count in ["10001", "18446744073709551615"] {
        let out = Command::new(env!("CARGO_BIN_EXE_wiki-load"))
            .args([
                "--addr",
                "127.0.0.1:9",
                "--connections",
                count,
                "--seconds",
                "1",
            ])
            .output()
            .expect("wiki-load runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{count}: {stderr}");
        assert!(stderr.contains("at most 10000"), "{count}: {stderr}");
        assert!(!stderr.contains("panicked"), "{count}: {stderr}");
    }
}
