//! What is the priority of a package, and why: its stored inputs (`db::priority`) and each
//! term of its current priority with the reasons it cannot be scheduled
//! (`priority::breakdown`, the computation the scheduler uses), with the default
//! `[priorities]` (`Config::priorities` gives the configured ones).
//!
//! Run: `cargo run -p koschei-examples --example package_priority -- DATABASE_URL COLLECTION PACKAGE`
#![allow(clippy::print_stdout, reason = "an example prints its result")]

use koschei_core::{db, priority, service};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [database, collection, name] = &a[..] else {
        return Err("usage: DATABASE_URL COLLECTION PACKAGE".into());
    };
    let mut client = postgres::Client::connect(database, postgres::NoTls)?;
    let p = db::priority::inputs_by_name(&mut client, collection, name)?
        .ok_or_else(|| format!("no package `{name}` in collection `{collection}`"))?;
    let why = priority::breakdown(&p.input, &priority::Priorities::default(), service::now());
    println!("{name} in {}: {why}", p.collection_display_name);
    for reason in &why.reasons {
        println!("- {}", reason.text(&p.collection_display_name));
    }
    Ok(())
}
