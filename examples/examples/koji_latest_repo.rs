//! Prints the latest ready repo and the build group of a Koji build tag.
//!
//! Shows the anonymous Koji client and two typed calls Koschei's repo resolver makes:
//! `getRepo(tag, state=READY)` and `getTagGroups(tag, event=repo.create_event)`.
//!
//! Run with:
//!
//! ```sh
//! cargo run -p koschei-examples --example koji_latest_repo -- https://koji.fedoraproject.org/kojihub f42-build [build]
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use anyhow::{Context, bail};
use koschei_core::koji::{self, Client};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (hub, tag, group) = match args.as_slice() {
        [hub, tag] => (hub, tag, "build"),
        [hub, tag, group] => (hub, tag, group.as_str()),
        _ => bail!("usage: koji_latest_repo <hub-url> <build-tag> [group]"),
    };
    let client = Client::new(koji::ClientOptions {
        server: hub.clone(),
        max_retries: 2,
        ..koji::ClientOptions::default()
    })?;
    let Some(repo) = client.latest_repo(tag)? else {
        println!("tag `{tag}` has no ready repo");
        return Ok(());
    };
    println!(
        "latest repo of `{tag}`: id {} (state {}, create event {})",
        repo.id, repo.state, repo.create_event
    );
    let groups = client
        .tag_groups(tag, Some(repo.create_event))
        .with_context(|| format!("reading the groups of `{tag}`"))?;
    match koji::build_group_packages(&groups, group) {
        Some(packages) => println!(
            "build group `{group}` ({} packages): {}",
            packages.len(),
            packages.join(" ")
        ),
        None => println!("tag `{tag}` has no group `{group}`"),
    }
    Ok(())
}
