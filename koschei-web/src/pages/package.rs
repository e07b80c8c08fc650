//! The package page, and the pieces the build page shares with it.

use std::time::SystemTime;

use maud::{Markup, html};

use koschei_core::db::web::{
    AppliedChange, BuildHistoryEntry, CollectionRow, HistoryEntry, PackageDetail,
};
use koschei_core::model::{BuildState, Evr};

use super::list::group_path;
use super::{Context, layout, package_path, state_label, with_query};
use crate::format::{ChangeKind, EvrPart, KojiLinks, first_difference, human_time};
use crate::params::percent_encode;
use crate::priority::{current_priority, skip_reasons};
use koschei_core::priority::Priorities;

/// Everything the package page shows.
#[derive(Debug)]
pub(crate) struct PackageView<'a> {
    pub(crate) detail: &'a PackageDetail,
    pub(crate) collection: &'a CollectionRow,
    /// The configured links, rendered: (text, URL).
    pub(crate) links: &'a [(String, String)],
    /// The "File new FTBFS bug" link, when the bug form can be filled in.
    pub(crate) bugreport: Option<&'a str>,
    pub(crate) unapplied: &'a [AppliedChange],
    pub(crate) history: &'a [HistoryEntry],
    /// Entries per history page; a full page gets a "Previous history" link.
    pub(crate) history_limit: usize,
    /// Whether this page shows older history (`last_seen_ts` given).
    pub(crate) older: bool,
    pub(crate) now: SystemTime,
    pub(crate) weights: Priorities,
    pub(crate) koji: &'a KojiLinks,
    pub(crate) secondary_koji: Option<&'a KojiLinks>,
}

/// An EVR with the part at `highlight` in `<mark>`.
pub(crate) fn evr_markup(evr: &Evr, highlight: Option<EvrPart>) -> Markup {
    let show_epoch = evr.epoch.is_some_and(|e| e != 0) || highlight == Some(EvrPart::Epoch);
    let part = |p: EvrPart, text: &str| -> Markup {
        if highlight == Some(p) {
            html! { mark { (text) } }
        } else {
            html! { (text) }
        }
    };
    html! {
        span.evr {
            @if show_epoch { (part(EvrPart::Epoch, &evr.epoch.unwrap_or(0).to_string())) ":" }
            (part(EvrPart::Version, &evr.version)) "-" (part(EvrPart::Release, &evr.release))
        }
    }
}

/// The table of dependency changes (applied or unapplied).
pub(crate) fn changes_table(
    ctx: &Context<'_>,
    collection: &str,
    changes: &[AppliedChange],
) -> Markup {
    html! {
        table.changes {
            thead { tr { th { "Dependency" } th { "Change" } th { "Old" } th { } th { "New" } th { "Distance" } } }
            tbody {
                @for c in changes {
                    @let kind = ChangeKind::of(c.prev.as_ref(), c.curr.as_ref());
                    @let diff = match (&c.prev, &c.curr) { (Some(p), Some(n)) => first_difference(p, n), _ => None };
                    tr class={ "change-" (kind.as_str()) } {
                        td {
                            @match (&c.prev, &c.curr) {
                                (Some(p), Some(n)) => {
                                    a title="Failed builds affected by this update"
                                      href=(affected_by_link(ctx, collection, &c.dep_name, p, n)) { (c.dep_name) }
                                }
                                _ => { (c.dep_name) }
                            }
                        }
                        td { span.kind title=(kind.as_str()) { (kind.symbol()) " " (kind.as_str()) } }
                        td { @if let Some(p) = &c.prev { (evr_markup(p, diff)) } }
                        td { "→" }
                        td { @if let Some(n) = &c.curr { (evr_markup(n, diff)) } }
                        td.num { @match c.distance { Some(d) => { (d) } None => { span.muted { "–" } } } }
                    }
                }
            }
        }
    }
}

fn affected_by_link(ctx: &Context<'_>, collection: &str, dep: &str, p: &Evr, n: &Evr) -> String {
    let _ = ctx;
    let e1 = p.epoch.unwrap_or(0).to_string();
    let e2 = n.epoch.unwrap_or(0).to_string();
    with_query(
        &format!("/affected-by/{}", percent_encode(dep)),
        &[
            ("collection", collection),
            ("epoch1", &e1),
            ("version1", &p.version),
            ("release1", &p.release),
            ("epoch2", &e2),
            ("version2", &n.version),
            ("release2", &n.release),
        ],
    )
}

/// The build header, per-arch task tree and dependency changes of one build.
pub(crate) fn build_block(
    ctx: &Context<'_>,
    collection: &str,
    b: &BuildHistoryEntry,
    koji: &KojiLinks,
) -> Markup {
    let build = &b.build;
    html! {
        div.build {
            p.build-head {
                span class={ "bstate bstate-" (build.state.as_str()) } { (build.state.as_str()) }
                " "
                a href=(ctx.link(&format!("/build/{}", build.id))) { "Build " (build.id) }
                " – Koji task "
                a href=(koji.taskinfo(build.task_id)) { (build.task_id) }
                @if let Some(evr) = &build.evr { " – " (evr_markup(evr, None)) }
                @if b.real { " " span.marker title="Real (non-scratch) build" { "real" } }
                @if b.untagged { " " span.marker title="Untagged from the collection's tag" { "untagged" } }
                @if b.cancel_requested { " " span.marker { "cancelation requested" } }
            }
            p.times {
                "Started " (human_time(build.started))
                @if let Some(f) = build.finished { ", finished " (human_time(f)) }
                @if let Some(r) = b.repo_id { ", repo " (r) }
            }
            @if !b.tasks.is_empty() {
                ul.tasks {
                    @for t in &b.tasks {
                        li {
                            span.arch { (t.arch) } " "
                            a href=(koji.taskinfo(t.task_id)) { (t.task_id) } " "
                            span class={ "tstate tstate-" (t.state.as_str()) } { (t.state.as_str()) } " "
                            a href=(koji.log(t.task_id, "build.log")) { "build.log" } " "
                            a href=(koji.log(t.task_id, "root.log")) { "root.log" }
                        }
                    }
                }
            }
            @match (b.deps_resolved, build.state) {
                (_, BuildState::Running) => {}
                (None, _) => { p.muted { "Dependency changes weren't processed yet." } }
                (Some(false), _) => { p.muted { "Dependency changes couldn't be processed." } }
                (Some(true), _) => {
                    @if b.changes.is_empty() {
                        p.muted { "No dependency changes." }
                    } @else {
                        (changes_table(ctx, collection, &b.changes))
                    }
                }
            }
        }
    }
}

/// Renders the package page.
pub(crate) fn page(ctx: &Context<'_>, v: &PackageView<'_>) -> Markup {
    let d = v.detail;
    let c = v.collection;
    let priority = current_priority(&d.flags, &v.weights, v.now);
    let reasons = skip_reasons(&d.flags, c, v.now);
    let content = html! {
        h1 { (d.name) " " (state_label(d.flags.state())) }
        p.subtitle { "in " a href=(ctx.link(&format!("/collection/{}", percent_encode(&c.name)))) { (c.display_name) } }
        @if !v.links.is_empty() || v.bugreport.is_some() {
            p.links {
                @for (i, (name, url)) in v.links.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(url) { (name) }
                }
                @if let Some(bug) = v.bugreport {
                    @if !v.links.is_empty() { " · " }
                    a.bugreport href=(bug) { "File new FTBFS bug" }
                }
            }
        }
        @if !d.problems.is_empty() {
            section {
                h2 { "Dependency problems" }
                ul.problems { @for p in &d.problems { li { code { (p) } } } }
            }
        }
        section {
            h2 { "Scheduler parameters" }
            table.params {
                tr { th { "Tracked" } td { (if d.flags.tracked { "yes" } else { "no" }) } }
                tr { th { "Current priority" } td {
                    @match priority {
                        Some(p) => { (format!("{p:.2}")) }
                        None => {
                            "not schedulable"
                            ul.reasons { @for r in &reasons { li { (r) } } }
                        }
                    }
                } }
                tr { th { "Manual priority" } td { (d.flags.manual_priority) } }
                tr { th { "Static priority" } td { (d.flags.static_priority) } }
                tr { th { "Dependency priority" } td { (d.flags.dependency_priority) } }
                tr { th { "Build priority" } td { (d.flags.build_priority) } }
                tr { th { "Arch override" } td { @match &d.arch_override { Some(a) => { (a) } None => { span.muted { "none" } } } } }
                tr { th { "Skip resolution" } td { (if d.flags.skip_resolution { "yes" } else { "no" }) } }
            }
        }
        section {
            h2 { "Unapplied dependency changes" }
            @if v.unapplied.is_empty() {
                p.muted { "No unapplied dependency changes." }
            } @else {
                (changes_table(ctx, &c.name, v.unapplied))
            }
        }
        @if !d.other_collections.is_empty() {
            section {
                h2 { "Other collections" }
                ul.other {
                    @for o in &d.other_collections {
                        @if let Some(oc) = ctx.collection(o.collection_id) {
                            li {
                                a href=(with_query(&package_path(&d.name), &[("collection", &oc.name)])) { (oc.display_name) }
                                " " (state_label(o.state))
                                @if o.running { " " span.running { "running" } }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Groups" }
            @if d.groups.is_empty() {
                p.muted { "Not in any group." }
            } @else {
                ul.groups { @for g in &d.groups { li { a href=(ctx.link(&group_path(g))) { (g) } } } }
            }
        }
        section {
            h2 { @if v.older { "Older history" } @else { "History" } }
            @if v.history.is_empty() {
                p.muted { "No builds or resolution changes." }
            }
            @for e in v.history {
                @match e {
                    HistoryEntry::Build(b) => {
                        (build_block(ctx, &c.name, b, KojiLinks::for_build(v.koji, v.secondary_koji, c.secondary_mode, b.real)))
                    }
                    HistoryEntry::Resolution(r) => {
                        div class={ "resolution " (if r.resolved { "resolved" } else { "unresolved" }) } {
                            p {
                                (human_time(r.timestamp)) " – "
                                @if r.resolved { "Dependencies became resolvable" } @else { "Dependencies became unresolvable" }
                            }
                            @if !r.problems.is_empty() {
                                ul.problems { @for p in &r.problems { li { code { (p) } } } }
                            }
                        }
                    }
                }
            }
            @if v.history.len() >= v.history_limit {
                @if let Some(last) = v.history.last() {
                    p { a rel="next" href=(with_query(&package_path(&d.name), &[
                        ("collection", &c.name),
                        ("last_seen_ts", &crate::format::unix_seconds(last.time()).to_string()),
                    ])) { "Previous history »" } }
                }
            }
        }
    };
    layout(ctx, &d.name, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evr_highlights_first_differing_part() {
        let p = Evr::parse("1.2-3").unwrap();
        let n = Evr::parse("1.2-4").unwrap();
        let d = first_difference(&p, &n);
        assert_eq!(
            evr_markup(&n, d).into_string(),
            r#"<span class="evr">1.2-<mark>4</mark></span>"#
        );
        let e = Evr::parse("2:1.0-1").unwrap();
        assert_eq!(
            evr_markup(&p, first_difference(&p, &e)).into_string(),
            r#"<span class="evr"><mark>0</mark>:1.2-3</span>"#
        );
        assert_eq!(
            evr_markup(&Evr::parse("<a>-1").unwrap(), None).into_string(),
            r#"<span class="evr">&lt;a&gt;-1</span>"#
        );
    }
}
