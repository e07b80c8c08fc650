//! `koschei package show`: a package's state, settings, current priority term by term and
//! why it is not scheduled (`priority::breakdown`, the scheduler's own computation).

use serde::Serialize;

use crate::exit::outln;
use koschei_core::db::{collection, package, priority as db_priority};
use koschei_core::priority::{self, Breakdown};

use super::Context;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Show a package in every collection (or one): state, settings, current priority and
    /// why it is not scheduled.
    Show {
        /// Package name.
        name: String,
        /// Only this collection.
        #[arg(short = 'c', long)]
        collection: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// The priority part of `package show --json`.
#[derive(Debug, Serialize)]
struct PriorityJson {
    /// The current priority, `null` when not schedulable.
    current: Option<f64>,
    /// Whether the scheduler would submit it now (Koji's capacity and load aside).
    schedulable: bool,
    threshold: i32,
    manual: i32,
    #[serde(rename = "static")]
    static_: i32,
    dependency: i32,
    build: i32,
    time: Option<f64>,
    hours_since_last_build: Option<f64>,
    coefficient: f64,
    /// `manual + static + coefficient * (dependency + build + time)`, schedulable or not.
    total: Option<f64>,
    /// Every reason it is not scheduled, in the web's words.
    skip_reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    package: &'a package::Package,
    priority: PriorityJson,
}

/// Why the package is not scheduled now, one text per reason; empty when it would be.
fn not_scheduled(b: &Breakdown, display_name: &str) -> Vec<String> {
    let mut out: Vec<String> = b.reasons.iter().map(|r| r.text(display_name)).collect();
    if let Ok(p) = b.priority
        && !b.schedulable()
    {
        out.push(format!(
            "Priority {p:.2} is below the threshold {}",
            b.threshold
        ));
    }
    out
}

pub(crate) fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    let Command::Show {
        name,
        collection: coll,
        json,
    } = command;
    let (_db, mut client) = ctx.connect_current()?;
    let cid = coll
        .as_deref()
        .map(|c| collection::get(&mut client, c))
        .transpose()?
        .map(|c| c.id);
    let packages = package::by_name(&mut client, &name, cid)?;
    if packages.is_empty() {
        anyhow::bail!(
            "package `{name}` does not exist{}",
            coll.map_or(String::new(), |c| format!(" in collection `{c}`"))
        );
    }
    let weights = ctx.config.priorities();
    let now = koschei_core::service::now();
    let mut shown = Vec::new();
    for p in &packages {
        let inputs = db_priority::inputs(&mut client, p.id)?
            .ok_or_else(|| anyhow::anyhow!("package `{}` disappeared meanwhile", p.name))?;
        let b = priority::breakdown(&inputs.input, &weights, now);
        let reasons = not_scheduled(&b, &inputs.collection_display_name);
        shown.push((p, b, reasons));
    }
    if json {
        let out: Vec<ShowJson<'_>> = shown
            .iter()
            .map(|(p, b, reasons)| ShowJson {
                package: p,
                priority: PriorityJson {
                    current: b.priority.ok(),
                    schedulable: b.schedulable(),
                    threshold: b.threshold,
                    manual: b.manual,
                    static_: b.static_,
                    dependency: b.dependency,
                    build: b.build,
                    time: b.time,
                    hours_since_last_build: b.hours,
                    coefficient: b.coefficient,
                    total: b.total,
                    skip_reasons: reasons.clone(),
                },
            })
            .collect();
        return super::print_json(&out);
    }
    for (p, b, reasons) in &shown {
        print_text(p, b, reasons, now)?;
    }
    Ok(())
}

fn print_text(
    p: &package::Package,
    b: &Breakdown,
    reasons: &[String],
    now: std::time::SystemTime,
) -> anyhow::Result<()> {
    outln!("{} in {}: {}", p.name, p.collection, p.state.as_str())?;
    outln!(
        "  tracked {}, blocked {}, resolved {}, skip resolution {}",
        p.tracked,
        p.blocked,
        p.resolved.map_or("not yet".to_owned(), |r| r.to_string()),
        p.skip_resolution
    )?;
    outln!(
        "  arch override: {}",
        p.arch_override.as_deref().unwrap_or("none")
    )?;
    let interval = p
        .min_rebuild_interval_hours
        .map_or("none".to_owned(), |h| format!("{h} h"));
    let submitted = p.last_submitted.as_deref().unwrap_or("never");
    outln!("  minimum rebuild interval: {interval} (last submitted: {submitted})")?;
    if let Some(until) = &p.suspended_until {
        let ended = koschei_core::calendar::parse_utc(until).is_ok_and(|t| t <= now);
        outln!(
            "  suspended until {until}{}",
            if ended { " (ended)" } else { "" }
        )?;
    }
    match &p.last_build {
        Some(lb) => outln!(
            "  last build: build {}, task {} {} started {}{}",
            lb.id.0,
            lb.task_id,
            lb.state.map_or("?", |s| s.as_str()),
            lb.started,
            lb.version_release
                .as_deref()
                .map_or(String::new(), |vr| format!(", {vr}"))
        )?,
        None => outln!("  last build: none")?,
    }
    for line in b.to_string().lines() {
        outln!("  {line}")?;
    }
    if reasons.is_empty() {
        outln!("  scheduled at the scheduler's next pass (when Koji has room)")?;
    } else {
        for r in reasons {
            outln!("  not scheduled: {r}")?;
        }
    }
    Ok(())
}
