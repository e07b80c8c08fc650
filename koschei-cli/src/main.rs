//! The `koschei` command.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a CLI prints")]

mod commands;
mod exit;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

use koschei_core::config::{Config, ConfigSources};

/// Koschei: continuous rebuild testing of RPM packages in Koji.
#[derive(Debug, Parser)]
#[command(name = "koschei", version, after_help = exit::HELP)]
struct Cli {
    /// Configuration file merged last (instead of `KOSCHEI_CONFIG`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the configuration.
    #[command(subcommand)]
    Config(commands::config::Command),
    /// Schema migrations.
    #[command(subcommand)]
    Db(commands::db::Command),
    /// Database location, schema version, collections and running builds.
    Status(commands::status::Args),
    /// Read collections.
    #[command(subcommand)]
    Collection(commands::collection::Command),
    /// Read packages.
    #[command(subcommand)]
    Package(commands::package::Command),
    /// Run `psql` on Koschei's database.
    Psql(commands::psql::Args),
    #[command(flatten)]
    Admin(commands::admin::Command),
    /// Resolve the BuildRequires of source packages against a build repository (offline).
    Resolve(commands::resolve::Args),
    /// One pass of every engine service (polling, repo resolver, build resolver, scheduler), for cron.
    Run(commands::run::Args),
    /// Submit scratch builds of packages now (no priority or load checks; arches as the scheduler computes them).
    SubmitBuild(commands::submit::Args),
    /// The engine services as a long-running process.
    #[command(subcommand)]
    Service(commands::run::ServiceCommand),
    /// fedora-messaging: listen to Koji's messages, publish the outbox, show its state.
    #[command(subcommand)]
    Messaging(commands::messaging::Command),
    /// Show what a repository change does to every source package's build dependencies.
    Impact(commands::impact::Args),
    /// The whole loop on this machine with no configuration: private PostgreSQL, a fake Koji
    /// hub, engine passes, and the web frontend until Ctrl-C.
    Demo(commands::demo::Args),
    /// Man pages and shell completions (for packagers: the RPM spec runs both).
    #[command(subcommand)]
    Generate(commands::generate::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if exit::closed_stdout(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit::code_for(&e)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    // The demo needs no configuration: it ignores the configuration files.
    let command = match cli.command {
        Command::Demo(a) => {
            init_logging(cli.verbose, "warn");
            return commands::demo::run(a).map(|()| 0);
        }
        Command::Generate(c) => {
            return commands::generate::run(c, commands::generate::koschei_command()).map(|()| 0);
        }
        other => other,
    };
    let config = Config::load(&ConfigSources::from_env(cli.config.clone()))?;
    init_logging(cli.verbose, &config.log_filter);
    let ctx = commands::Context { config };
    match command {
        Command::Demo(_) | Command::Generate(_) => Ok(0),
        Command::Config(c) => commands::config::run(&ctx, c).map(|()| 0),
        Command::Db(c) => commands::db::run(&ctx, c).map(|()| 0),
        Command::Status(a) => commands::status::run(&ctx, a).map(|()| 0),
        Command::Collection(c) => commands::collection::run(&ctx, c).map(|()| 0),
        Command::Package(c) => commands::package::run(&ctx, c).map(|()| 0),
        Command::Admin(c) => commands::admin::run(&ctx, c).map(|()| 0),
        Command::Resolve(a) => commands::resolve::run(&ctx.config, &a),
        Command::Impact(a) => commands::impact::run(&ctx.config, &a),
        Command::Run(a) => commands::run::run_once(&ctx, a),
        Command::Service(c) => commands::run::service(&ctx, c),
        Command::SubmitBuild(a) => commands::submit::run(&ctx, a),
        Command::Psql(a) => commands::psql::run(&ctx, a).map(|()| 0),
        Command::Messaging(c) => commands::messaging::run(&ctx, c),
    }
}

/// Logs go to stderr. `-v` flags win over `RUST_LOG`, which wins over `logging.filter`.
fn init_logging(verbose: u8, config_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = match verbose {
        0 => EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(config_filter))
            .unwrap_or_else(|_| EnvFilter::new("info")),
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
