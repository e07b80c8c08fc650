//! The `koschei` command.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod commands;

use clap::{Parser, Subcommand};

/// Koschei: continuous rebuild testing of RPM packages in Koji.
#[derive(Debug, Parser)]
#[command(name = "koschei", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Resolve the BuildRequires of source packages against a build repository.
    Resolve(commands::resolve::Args),
    /// Show what a repository change does to every source package's build dependencies.
    Impact(commands::impact::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Resolve(args) => commands::resolve::run(&args),
        Command::Impact(args) => commands::impact::run(&args),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}
