//! Resolves one source package's BuildRequires (plus the build group) against a binary rpm-md
//! repository, the way Koschei decides whether a package can be built, and prints the
//! dependency distances of what would be installed.
//!
//! Run: `cargo run -p koschei-examples --example resolve_source -- ../shared/data/small/binary ../shared/data/small/source aegean`
#![allow(clippy::print_stdout, reason = "an example prints its result")]

use anyhow::Context;
use koschei_solver::{LoadOptions, Repository, ResolveOptions, Resolver, read_source_packages};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(binary), Some(sources), Some(name)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: resolve_source BINARY_REPO_DIR SOURCE_REPO_DIR PACKAGE");
    };
    let repo = Repository::load(binary.as_ref(), &LoadOptions::default())?;
    let source = read_source_packages(sources.as_ref())?
        .into_iter()
        .find(|s| s.name == name)
        .with_context(|| format!("no source package `{name}` in `{sources}`"))?;
    let group = repo.build_group().unwrap_or_default().to_vec();
    let mut resolver = Resolver::new(&[&repo], ResolveOptions::default())?;
    let answer = resolver.resolve(&group, &source.build_requires);
    println!(
        "{}-{}: resolved = {}",
        source.name,
        source.evr(),
        answer.resolved
    );
    for problem in &answer.problems {
        println!("  problem: {problem}");
    }
    let distances = resolver.dependency_distances(&source.build_requires, &answer.installs);
    let mut near: Vec<(&String, &u32)> = distances.iter().filter(|(_, d)| **d <= 2).collect();
    near.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    println!(
        "{} packages installed; the nearest ones:",
        answer.installs.len()
    );
    for (dep, distance) in near.iter().take(15) {
        println!("  {distance}  {dep}");
    }
    Ok(())
}
