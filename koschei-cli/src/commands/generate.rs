//! `koschei generate`: man pages and shell completions from the command definitions, for
//! packagers (the RPM spec runs both) and for users.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::exit::outln;

/// What to generate.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write `koschei.1` and one page per subcommand (`koschei-service-run.1`, …) into DIR.
    Man {
        /// Directory to write the pages into (created if missing).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print the completion script for SHELL on stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// Runs the subcommand for the command line definition `cli`.
pub(crate) fn run(command: Command, mut cli: clap::Command) -> anyhow::Result<()> {
    match command {
        Command::Man { dir } => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            cli.build();
            let written = write_pages(&cli, &dir)?;
            outln!("wrote {written} man pages into {}", dir.display())?;
        }
        Command::Completions { shell } => {
            let name = cli.get_name().to_owned();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli, name, &mut script);
            outln!("{}", String::from_utf8_lossy(&script).trim_end())?;
        }
    }
    Ok(())
}

/// Writes the page of `cmd` and, recursively, of its visible subcommands; returns how many.
fn write_pages(cmd: &clap::Command, dir: &Path) -> anyhow::Result<usize> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .with_context(|| format!("cannot render the man page of `{name}`"))?;
    std::fs::write(&path, page).with_context(|| format!("cannot write `{}`", path.display()))?;
    let mut written = 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        written += write_pages(sub, dir)?;
    }
    Ok(written)
}

/// The `koschei` command line, for the generators.
pub(crate) fn koschei_command() -> clap::Command {
    crate::Cli::command()
}
