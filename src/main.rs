//! The `kulanz` binary: everything lives in the library; this only runs the CLI.

/// mimalloc instead of glibc malloc: a decision allocates and frees many small values
/// across two worker threads, where glibc's arena locks and consolidation showed up as a
/// quarter of the server's time (docs/performance.md, "HTTP").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kulanz::cli::main()
}
