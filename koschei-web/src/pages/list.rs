//! The package list (one collection) and the unified list (several collections).

use std::time::SystemTime;

use maud::{Markup, html};

use koschei_core::db::web::{CollectionRow, PackageListPage, UnifiedPage};

use super::{Context, layout, package_path, pager, state_label};
use crate::format::{KojiLinks, human_time};
use crate::priority::current_priority;
use koschei_core::priority::Priorities;

/// Everything a list page needs besides the rows.
#[derive(Debug)]
pub(crate) struct ListView<'a> {
    /// Page title and heading.
    pub(crate) heading: String,
    /// Path the sort and page links point to.
    pub(crate) path: &'a str,
    /// Query pairs to keep in links (for example the search `q`).
    pub(crate) keep: Vec<(&'static str, String)>,
    /// The `order_by` in effect (as given, or the default).
    pub(crate) order_spec: String,
    /// `untracked=1` given.
    pub(crate) untracked: bool,
    /// 1-based page.
    pub(crate) page: i64,
    /// Rows per page.
    pub(crate) per_page: i64,
    /// Time the priorities are computed at.
    pub(crate) now: SystemTime,
    /// Priority weights.
    pub(crate) weights: Priorities,
    /// Koji links.
    pub(crate) koji: &'a KojiLinks,
    /// Content before the table (for example the group owner line).
    pub(crate) intro: Option<Markup>,
}

/// The rows of a list page.
#[derive(Debug)]
pub(crate) enum ListBody<'a> {
    /// One collection.
    Single(&'a PackageListPage, &'a CollectionRow),
    /// Several collections, one state column each.
    Unified(&'a UnifiedPage, Vec<&'a CollectionRow>),
}

impl ListView<'_> {
    fn link(&self, ctx: &Context<'_>, order: &str, page: i64, untracked: bool) -> String {
        let page_s = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        let mut pairs: Vec<(&str, &str)> =
            self.keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("order_by", order));
        pairs.push(("untracked", if untracked { "1" } else { "" }));
        pairs.push(("page", &page_s));
        ctx.link_with(self.path, &pairs)
    }

    /// Link for a column header: sort by `key`, or reversed when already sorted by it.
    fn sort_link(&self, ctx: &Context<'_>, key: &str) -> String {
        let first = self.order_spec.split(',').next().unwrap_or_default();
        let order = if first == key {
            format!("-{key}")
        } else {
            key.to_owned()
        };
        self.link(ctx, &order, 1, self.untracked)
    }
}

fn summary_line(view: &ListView<'_>, shown: usize, total: i64) -> Markup {
    let from = (view.page - 1) * view.per_page + 1;
    let to = from - 1 + i64::try_from(shown).unwrap_or(0);
    html! {
        p.summary { "Packages from " (from) " to " (to) " from total " (total) }
    }
}

/// Renders a list page.
pub(crate) fn page(ctx: &Context<'_>, view: &ListView<'_>, body: &ListBody<'_>) -> Markup {
    let (shown, total) = match body {
        ListBody::Single(p, _) => (p.rows.len(), p.total),
        ListBody::Unified(p, _) => (p.rows.len(), p.total),
    };
    let content = html! {
        h1 { (view.heading) }
        @if let Some(intro) = &view.intro { (intro) }
        (summary_line(view, shown, total))
        p.toggles {
            @if view.untracked {
                a href=(view.link(ctx, &view.order_spec, 1, false)) { "Hide untracked packages" }
            } @else {
                a href=(view.link(ctx, &view.order_spec, 1, true)) { "Show untracked packages" }
            }
        }
        @match body {
            ListBody::Single(p, c) => (single_table(ctx, view, p, c)),
            ListBody::Unified(p, cs) => (unified_table(ctx, view, p, cs)),
        }
        (pager(view.page, view.per_page, total, &|n| view.link(ctx, &view.order_spec, n, view.untracked)))
    };
    layout(ctx, &view.heading, content)
}

fn single_table(
    ctx: &Context<'_>,
    view: &ListView<'_>,
    page: &PackageListPage,
    _collection: &CollectionRow,
) -> Markup {
    html! {
        table.packages {
            thead { tr {
                th { a href=(view.sort_link(ctx, "name")) { "Name" } }
                th { a href=(view.sort_link(ctx, "state")) { "State" } }
                th { a href=(view.sort_link(ctx, "running")) { "Running" } }
                th { a href=(view.sort_link(ctx, "task_id")) { "Last task" } }
                th { a href=(view.sort_link(ctx, "started")) { "Started" } }
                th { a href=(view.sort_link(ctx, "current_priority")) { "Priority" } }
                th { "Groups" }
            } }
            tbody {
                @for row in &page.rows {
                    tr {
                        td { a href=(ctx.link(&package_path(&row.name))) { (row.name) } }
                        td { (state_label(row.flags.state())) }
                        td { @if row.flags.running { span.running title="A build is running" { "running" } } }
                        td { @if let Some((_, task, _)) = row.last_build {
                            a href=(view.koji.taskinfo(task)) { (task) }
                        } }
                        td { @if let Some((_, _, started)) = row.last_build { (human_time(started)) } }
                        td.num { @match current_priority(&row.flags, &view.weights, view.now) {
                            Some(p) => { (format!("{p:.0}")) }
                            None => { span.muted title="Not schedulable" { "–" } }
                        } }
                        td { @for (i, g) in row.groups.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href=(ctx.link(&group_path(g))) { (g) }
                        } }
                    }
                }
            }
        }
    }
}

/// `/groups/<ns>/<name>` or `/groups/<name>` for a full group name.
pub(crate) fn group_path(full: &str) -> String {
    let enc: Vec<String> = full.split('/').map(crate::params::percent_encode).collect();
    format!("/groups/{}", enc.join("/"))
}

fn unified_table(
    ctx: &Context<'_>,
    view: &ListView<'_>,
    page: &UnifiedPage,
    collections: &[&CollectionRow],
) -> Markup {
    html! {
        table.packages {
            thead { tr {
                th { a href=(view.sort_link(ctx, "name")) { "Name" } }
                @for c in collections {
                    th { a href=(view.sort_link(ctx, &format!("state-{}", c.name))) { (c.display_name) } }
                }
                th { a href=(view.sort_link(ctx, "running")) { "Running" } }
                th { "Groups" }
            } }
            tbody {
                @for row in &page.rows {
                    tr {
                        td { a href=(ctx.link(&package_path(&row.name))) { (row.name) } }
                        @for c in collections {
                            td { @if let Some(cell) = row.cells.iter().find(|x| x.collection_id == c.id) {
                                a href=(super::with_query(&package_path(&row.name), &[("collection", &c.name)])) {
                                    (state_label(cell.state))
                                }
                            } }
                        }
                        td { @if row.cells.iter().any(|c| c.running) { span.running { "running" } } }
                        td { @for (i, g) in row.groups.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href=(ctx.link(&group_path(g))) { (g) }
                        } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::Tab;
    use crate::pages::tests::collection;
    use koschei_core::db::web::{Chrome, PackageFlags, PackageListRow, UnifiedCell, UnifiedRow};
    use koschei_core::model::{
        BasePackageId, BuildId, BuildState, CollectionId, KojiTaskId, PackageId, PackageState,
    };
    use std::time::Duration;

    fn koji() -> KojiLinks {
        KojiLinks {
            weburl: "https://koji.example/koji".into(),
            topurl: "https://pkgs.example".into(),
        }
    }

    fn view<'a>(k: &'a KojiLinks, now: SystemTime) -> ListView<'a> {
        ListView {
            heading: "Package summary".into(),
            path: "/packages",
            keep: vec![],
            order_spec: "running,state,name".into(),
            untracked: false,
            page: 1,
            per_page: 100,
            now,
            weights: Priorities::default(),
            koji: k,
            intro: None,
        }
    }

    #[test]
    fn empty_list_says_zero_packages() {
        let chrome = Chrome {
            collections: vec![collection(1, "f25", "Fedora Rawhide")],
            ..Chrome::default()
        };
        let ctx = Context {
            chrome: &chrome,
            current: chrome.collections.iter().collect(),
            selection: None,
            tab: Tab::Packages,
        };
        let k = koji();
        let p = PackageListPage {
            total: 0,
            rows: vec![],
        };
        let html = page(
            &ctx,
            &view(&k, SystemTime::UNIX_EPOCH),
            &ListBody::Single(&p, &chrome.collections[0]),
        )
        .into_string();
        assert!(html.contains("Package summary"));
        assert!(html.contains("Packages from 1 to 0 from total 0"));
        assert!(html.contains("Page 1 of 1"));
    }

    #[test]
    fn rows_show_state_task_priority_and_escaped_names() {
        let chrome = Chrome {
            collections: vec![collection(1, "f25", "Fedora Rawhide")],
            ..Chrome::default()
        };
        let ctx = Context {
            chrome: &chrome,
            current: chrome.collections.iter().collect(),
            selection: None,
            tab: Tab::Packages,
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let flags = PackageFlags {
            blocked: false,
            tracked: true,
            resolved: Some(true),
            skip_resolution: false,
            last_complete_build_state: Some(BuildState::Failed),
            running: false,
            last_build_started: Some(now - Duration::from_secs(10 * 3600)),
            manual_priority: 0,
            static_priority: 0,
            dependency_priority: 0,
            build_priority: 0,
            scheduler_skip_reason: None,
            priority_coefficient: 1.0,
            collection_resolved: Some(true),
            suspended_until: None,
            last_submitted: None,
            min_rebuild_interval: None,
        };
        let p = PackageListPage {
            total: 250,
            rows: vec![PackageListRow {
                id: PackageId(1),
                base_id: BasePackageId(1),
                name: "<script>alert(1)</script>".into(),
                flags,
                last_build: Some((
                    BuildId(1),
                    KojiTaskId(456_789),
                    now - Duration::from_secs(36_000),
                )),
                groups: vec!["ns/java".into()],
            }],
        };
        let k = koji();
        let mut v = view(&k, now);
        v.page = 2;
        let html = page(&ctx, &v, &ListBody::Single(&p, &chrome.collections[0])).into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains(r#"href="/package/%3Cscript%3Ealert%281%29%3C%2Fscript%3E""#));
        assert!(html.contains("Packages from 101 to 101 from total 250"));
        assert!(
            html.contains(r#"<span class="state state-failing" title="failing">failing</span>"#)
        );
        assert!(
            html.contains(
                r#"<a href="https://koji.example/koji/taskinfo?taskID=456789">456789</a>"#
            )
        );
        assert!(html.contains("<td class=\"num\">39</td>"), "{html}");
        assert!(html.contains(r#"href="/groups/ns/java""#));
        assert!(html.contains("2017-10-10 00:00"));
        assert!(html.contains("Page 2 of 3"));
        assert!(html.contains(r#"href="/packages?order_by=running%2Cstate%2Cname&amp;page=3""#));
        // Sorting by a column that is already first reverses it.
        let mut v2 = view(&k, now);
        v2.order_spec = "name".into();
        let html = page(&ctx, &v2, &ListBody::Single(&p, &chrome.collections[0])).into_string();
        assert!(html.contains(r#"href="/packages?order_by=-name""#));
    }

    #[test]
    fn unified_list_has_a_state_column_per_collection() {
        let chrome = Chrome {
            collections: vec![
                collection(1, "f25", "Fedora Rawhide"),
                collection(2, "epel7", "EPEL 7"),
            ],
            ..Chrome::default()
        };
        let ctx = Context {
            chrome: &chrome,
            current: chrome.collections.iter().collect(),
            selection: None,
            tab: Tab::Packages,
        };
        let p = UnifiedPage {
            total: 1,
            rows: vec![UnifiedRow {
                base_id: BasePackageId(1),
                name: "rnv".into(),
                cells: vec![UnifiedCell {
                    collection_id: CollectionId(2),
                    state: PackageState::Unresolved,
                    running: true,
                }],
                groups: vec![],
            }],
        };
        let k = koji();
        let html = page(
            &ctx,
            &view(&k, SystemTime::UNIX_EPOCH),
            &ListBody::Unified(&p, chrome.collections.iter().collect()),
        )
        .into_string();
        assert!(html.contains(">Fedora Rawhide</a></th>"));
        assert!(html.contains(r#"href="/packages?order_by=state-epel7""#));
        assert!(html.contains(r#"href="/package/rnv?collection=epel7""#));
        assert!(html.contains("state-unresolved"));
        assert!(html.contains(r#"<span class="running">running</span>"#));
    }
}
