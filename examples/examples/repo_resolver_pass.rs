//! Runs one repo-resolver pass of the Koschei engine inside another program: the engine
//! built from a configuration (here a string; `Config::load` reads the usual files), the
//! libsolv resolver, and `run_pass` with polling (which registers the tagged builds) and the
//! repo resolver, in passive mode (nothing is written to Koji). The database must be migrated
//! (`koschei db migrate`) and have a collection with tracked packages.
//!
//! Run: `cargo run -p koschei-examples --example repo_resolver_pass -- HUB_URL TOPURL DATABASE_URL CACHEDIR`
#![allow(clippy::print_stdout, reason = "an example prints its result")]

use std::path::Path;

use koschei_core::config::Config;
use koschei_core::service::{Engine, EngineOptions, PassOptions, ServiceName};
use koschei_solver::engine::{SolverResolver, SolverResolverOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [server, topurl, database, cachedir] = &a[..] else {
        return Err("usage: HUB_URL TOPURL DATABASE_URL CACHEDIR".into());
    };
    let text = format!(
        "[koji]\nserver = {server:?}\ntopurl = {topurl:?}\n\
         [database]\nurl = {database:?}\n[directories]\ncachedir = {cachedir:?}\n"
    );
    let config = Config::from_texts(&[(Path::new("<embedded>"), &text)], None)?;
    let resolver = SolverResolver::new(SolverResolverOptions::from_config(&config))?;
    let mut engine = Engine::from_config(&config, &EngineOptions::new(true), Box::new(resolver))?;
    let url = config.database.url.as_ref().ok_or("no database URL")?;
    let mut db = postgres::Client::connect(url.expose(), postgres::NoTls)?;
    let options = PassOptions {
        passive: true,
        only: vec![ServiceName::Polling, ServiceName::RepoResolver],
    };
    let report = engine.run_pass(&mut db, &options);
    for line in report.lines() {
        println!("{line}");
    }
    if !report.is_success() {
        return Err("the pass failed".into());
    }
    Ok(())
}
