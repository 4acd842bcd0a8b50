//! The downloader: see `async-download --help` and the crate's README.

fn main() -> std::process::ExitCode {
    async_download::cli::main()
}
