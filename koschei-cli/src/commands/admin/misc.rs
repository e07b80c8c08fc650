//! `set-notice`, `clear-notice`, `cleanup`.

use koschei_core::db::{maintenance, notice};

use super::Tx;

#[derive(Debug, clap::Args)]
pub(crate) struct SetNoticeArgs {
    /// The notice (HTML is escaped when shown).
    content: String,
}

pub(crate) fn set_notice(tx: &mut Tx<'_>, a: SetNoticeArgs) -> anyhow::Result<Vec<String>> {
    notice::set(tx, notice::GLOBAL, &a.content)?;
    Ok(vec![format!("Updated admin notice to: {}", a.content)])
}

pub(crate) fn clear_notice(tx: &mut Tx<'_>) -> anyhow::Result<Vec<String>> {
    Ok(vec![if notice::clear(tx, notice::GLOBAL)? {
        "Cleared admin notice".to_owned()
    } else {
        "Cleared admin notice (there was none)".to_owned()
    }])
}

#[derive(Debug, clap::Args)]
pub(crate) struct CleanupArgs {
    /// Delete builds started more than this many months ago (at least 2).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(i32).range(2..))]
    older_than: i32,
}

pub(crate) fn cleanup(tx: &mut Tx<'_>, a: CleanupArgs) -> anyhow::Result<Vec<String>> {
    let done = maintenance::cleanup(tx, a.older_than)?;
    Ok(vec![format!(
        "Cleanup: Deleted {} builds, {} resolution changes",
        done.builds, done.resolution_changes
    )])
}
