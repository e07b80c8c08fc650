//! `koschei config show`.

use super::Context;

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
                println!("# No configuration files read: built-in defaults.");
            } else {
                println!("# Merged from the built-in defaults and, in order:");
                for f in ctx.config.files() {
                    println!("#   {}", f.display());
                }
            }
            print!("{}", ctx.config.to_masked_toml());
            Ok(())
        }
    }
}
