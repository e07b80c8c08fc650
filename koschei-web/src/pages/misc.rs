//! Stats, affected-by, documentation and error pages.

use maud::{Markup, html};

use koschei_core::db::web::{AffectedByRow, CollectionRow, ResourceRow, ScalarStats};
use koschei_core::model::Evr;

use super::package::evr_markup;
use super::{Context, layout, package_path, pager, state_label, with_query};
use crate::format::{KojiLinks, human_duration, human_time};

/// `/stats`.
pub(crate) fn stats(
    ctx: &Context<'_>,
    scalar: Option<&ScalarStats>,
    resources: &[ResourceRow],
    total: i64,
    page: i64,
    per_page: i64,
) -> Markup {
    let content = html! {
        h1 { "Statistics" }
        @match scalar {
            None => { p.muted { "Statistics have not been computed yet." } }
            Some(s) => {
                table.params {
                    tr { th { "Packages" } td.num { (s.packages) } }
                    tr { th { "Tracked packages" } td.num { (s.tracked_packages) } }
                    tr { th { "Untracked packages" } td.num { (s.packages - s.tracked_packages) } }
                    tr { th { "Active packages (tracked, not blocked)" } td.num { ((s.tracked_packages - s.blocked_packages).max(0)) } }
                    tr { th { "Blocked packages" } td.num { (s.blocked_packages) } }
                    tr { th { "Builds" } td.num { (s.builds) } }
                    tr { th { "Real builds" } td.num { (s.real_builds) } }
                    tr { th { "Scratch builds" } td.num { (s.scratch_builds) } }
                }
                p.muted { "Refreshed " (human_time(s.refresh_time)) " (UTC)." }
            }
        }
        h2 { "Build time per package and architecture" }
        @if resources.is_empty() {
            p.muted { "No finished build tasks." }
        } @else {
            table.resources {
                thead { tr { th { "Package" } th { "Arch" } th { "Time" } th { "Share" } } }
                tbody {
                    @for r in resources {
                        tr {
                            td { a href=(ctx.link(&package_path(&r.name))) { (r.name) } }
                            td { (r.arch) }
                            td.num { @match r.seconds { Some(s) => { (human_duration(s)) } None => { "–" } } }
                            td.num { @match r.percentage { Some(p) => { (format!("{:.2} %", p * 100.0)) } None => { "–" } } }
                        }
                    }
                }
            }
            (pager(page, per_page, total, &|n| ctx.link_with("/stats", &[("page", &n.to_string())])))
        }
    };
    layout(ctx, "Statistics", content)
}

/// `/affected-by/<dep>`.
pub(crate) fn affected_by(
    ctx: &Context<'_>,
    collection: &CollectionRow,
    dep: &str,
    evr1: &Evr,
    evr2: &Evr,
    rows: &[AffectedByRow],
    koji: &KojiLinks,
) -> Markup {
    let title = format!("Packages affected by {dep}");
    let content = html! {
        h1 { "Packages affected by " code { (dep) } }
        p.subtitle {
            "Failed builds in " (collection.display_name) " after " code { (dep) } " moved from "
            (evr_markup(evr1, None)) " to " (evr_markup(evr2, None)) " (RPM version order)."
        }
        @if rows.is_empty() {
            p.muted { "No failed builds were affected by this change." }
        } @else {
            table.affected {
                thead { tr { th { "Package" } th { "State" } th { "Build" } th { "Change" } th { "Distance" } th { "Started" } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { a href=(with_query(&package_path(&r.package_name), &[("collection", &collection.name)])) { (r.package_name) } }
                            td { (state_label(r.state)) }
                            td { a href=(format!("/build/{}", r.build_id)) { (r.build_id) } " (task "
                                 a href=(koji.taskinfo(r.task_id)) { (r.task_id) } ")" }
                            td {
                                @match &r.prev { Some(p) => { (evr_markup(p, None)) } None => { "none" } }
                                " → "
                                @match &r.curr { Some(c) => { (evr_markup(c, None)) } None => { "none" } }
                            }
                            td.num { @match r.distance { Some(d) => { (d) } None => { "–" } } }
                            td { (human_time(r.started)) }
                        }
                    }
                }
            }
        }
    };
    layout(ctx, &title, content)
}

/// `/documentation`: a short user guide.
pub(crate) fn documentation(ctx: &Context<'_>) -> Markup {
    let content = html! {
        h1 { "Documentation" }
        h2 { "What is Koschei?" }
        p { "Koschei is a continuous integration service for RPM packages. It tracks the build "
            "dependencies of packages in Koji and submits a scratch build whenever they change, "
            "so that maintainers learn early when their package fails to build from source." }
        h2 { "How it works?" }
        p { "For every collection (a Koji build target) Koschei watches the latest build repo. "
            "When a new repo appears it resolves the build dependencies of each tracked package "
            "and records which dependencies changed since the package's last build. "
            "Each change raises the package's priority; the closer the dependency "
            "(distance 1 is a direct BuildRequires), the more it counts. "
            "Time since the last build raises the priority too, so every package is rebuilt "
            "about once a week even when nothing changes. "
            "When Koji has capacity, the package with the highest priority gets a scratch build." }
        h2 { "Package states" }
        dl {
            dt { (state_label(koschei_core::model::PackageState::Ok)) } dd { "The last build succeeded." }
            dt { (state_label(koschei_core::model::PackageState::Failing)) } dd { "The last build failed." }
            dt { (state_label(koschei_core::model::PackageState::Unresolved)) } dd { "The build dependencies cannot be installed; the package page lists the problems." }
            dt { (state_label(koschei_core::model::PackageState::Unknown)) } dd { "No build has finished yet." }
            dt { (state_label(koschei_core::model::PackageState::Untracked)) } dd { "Koschei does not build this package." }
            dt { (state_label(koschei_core::model::PackageState::Blocked)) } dd { "The package is blocked in Koji." }
        }
        h2 { "Searching and sorting" }
        p { "The search box matches package names case-insensitively; " code { "*" } " matches any text. "
            "Click a column header to sort by it, click again to reverse. "
            "Add " code { "?collection=NAME" } " to any page to look at one collection." }
        h2 { "JSON API" }
        ul {
            li { code { "GET /api/v1/packages[?name=N…][&collection=C…]" } " – every package with its state and last complete build." }
            li { code { "GET /api/v1/packages/NAME[?collection=C]" } " – one package per collection with scheduler data, dependency changes and problems." }
            li { code { "GET /api/v1/collections/diff/C1/C2" } " – packages whose state differs between two collections." }
            li { code { "GET /badge/COLLECTION/NAME.svg" } " – a state badge." }
        }
        h2 { "Changing things" }
        p { "This web interface is read-only. Tracking, priorities and groups are changed with the "
            code { "koschei" } " command-line tool." }
    };
    layout(ctx, "Documentation", content)
}

/// A page for an error status (404, 400) with the message.
pub(crate) fn error(ctx: &Context<'_>, status: u16, message: &str) -> Markup {
    let title = match status {
        404 => "Not found",
        400 => "Bad request",
        _ => "Error",
    };
    let content = html! {
        h1 { (title) }
        p.error { (message) }
        p { a href="/" { "Back to the package list" } }
    };
    layout(ctx, title, content)
}
