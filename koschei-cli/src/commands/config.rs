//! `koschei config show`.

use super::Context;
use crate::exit::outln;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Print the merged configuration (secrets masked).
    Show {
        /// JSON instead of TOML.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Show { json: true } => super::print_json(&ctx.config.to_masked_json()),
        Command::Show { json: false } => {
            if ctx.config.files().is_empty() {
                outln!("# No configuration files read: built-in defaults.")?;
            } else {
                outln!("# Merged from the built-in defaults and, in order:")?;
                for f in ctx.config.files() {
                    outln!("#   {}", f.display())?;
                }
            }
            std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                ctx.config.to_masked_toml().as_bytes(),
            )?;
            Ok(())
        }
    }
}
