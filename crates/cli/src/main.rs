//! `patchwatch`: the server, the administration CLI and the tools, in one
//! binary.
#![forbid(unsafe_code)]

mod cli;
mod cli_repos;
mod commands;
mod config;
mod database;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// Ingest allocates and frees thousands of small strings a report; mimalloc
/// does that markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let serving = matches!(cli.command, cli::Command::Serve(_));
    init_tracing(cli.verbose, serving, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        // `patchwatch hosts show X | head` closes the pipe early: that is
        // the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Commands are quiet unless asked (`-v`); the server logs what it does.
/// PostgreSQL's NOTICE lines (`relation ... already exists, skipping`)
/// arrive as tokio-postgres info logs and mean nothing to a user, so that
/// crate logs warnings only unless PATCHWATCH_LOG says otherwise.
fn log_filter(verbose: u8, serving: bool) -> String {
    let level = match (verbose, serving) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    };
    format!("{level},tokio_postgres=warn")
}

fn init_tracing(verbose: u8, serving: bool, format: cli::LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("PATCHWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter(verbose, serving)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        cli::LogFormat::Json => builder.json().init(),
        // Colour codes only for a person at a terminal, never in a file,
        // a pipe or the journal.
        cli::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn quiet_commands_and_no_postgres_notices() {
        assert_eq!(super::log_filter(0, false), "warn,tokio_postgres=warn");
        assert_eq!(super::log_filter(0, true), "info,tokio_postgres=warn");
        assert_eq!(super::log_filter(1, false), "info,tokio_postgres=warn");
        assert_eq!(super::log_filter(3, true), "trace,tokio_postgres=warn");
    }
}
