//! The `allsync` command.

fn main() -> std::process::ExitCode {
    allsync::cli::main()
}
