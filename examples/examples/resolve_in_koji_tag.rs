#![cfg_attr(rustfmt, rustfmt_skip)]
//! Resolves the BuildRequires of some packages against the latest repo of a Koji build tag,
//! as Koschei's engine does: Koji for the repo, build group and BuildRequires, the repo cache
//! and libsolv for the answers.
//!
//! Run: `cargo run -p koschei-examples --example resolve_in_koji_tag -- HUB_URL TOPURL DEST_TAG BUILD_TAG CACHEDIR PACKAGE...`
//! (e.g. `https://koji.fedoraproject.org/kojihub https://kojipkgs.fedoraproject.org f44 f44-build /tmp/kc rnv`).
#![allow(clippy::print_stdout, reason = "an example prints its result")]

use koschei_core::koji::{Client, ClientOptions, KojiApi};
use koschei_core::resolve::{RepoDescriptor, Resolver};
use koschei_solver::engine::{SolverResolver, SolverResolverOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [server, topurl, tag, build_tag, cachedir, packages @ ..] = &a[..] else {
        return Err("usage: HUB_URL TOPURL DEST_TAG BUILD_TAG CACHEDIR PACKAGE...".into());
    };
    let client = Client::new(ClientOptions { server: server.clone(), topurl: topurl.clone(), ..ClientOptions::default() })?;
    let koji: &dyn KojiApi = &client; // the engine's calls
    let repo_id = koji.latest_repo(build_tag)?.ok_or("the tag has no ready repo")?;
    let event = koji.repo_info(repo_id)?.ok_or("repo vanished")?.create_event;
    let group = koji.build_group(build_tag, "build", event)?.ok_or("no build group")?;
    let mut srpms = Vec::new();
    for name in packages {
        srpms.push(koji.latest_srpm(tag, name)?.ok_or(format!("{name} is not in {tag}"))?.nvr);
    }
    let requires: Vec<Vec<String>> = koji.rpm_requires(&srpms)?.into_iter().map(Option::unwrap_or_default).collect();
    let mut resolver = SolverResolver::new(SolverResolverOptions::new(cachedir, topurl))?;
    let repo = RepoDescriptor { build_tag: build_tag.clone(), repo_id };
    for (name, r) in packages.iter().zip(resolver.resolve_many(&repo, &group, &requires)?) {
        println!("{name}: {} ({} packages) {:?}", if r.resolved { "resolved" } else { "UNRESOLVED" }, r.installs.len(), r.problems);
    }
    Ok(())
}
