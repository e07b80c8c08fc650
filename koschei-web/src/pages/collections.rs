//! Collections, collection groups, package groups.

use maud::{Markup, html};

use koschei_core::db::web::{CollectionGroupRow, CollectionRow, GroupRow};

use super::list::group_path;
use super::{Context, layout, with_query};
use crate::params::percent_encode;

fn collection_state(c: &CollectionRow) -> Markup {
    let s = c.state().as_str();
    html! { span class={ "state state-" (s) } title={ "Base buildroot: " (s) } { (s) } }
}

fn collection_item(c: &CollectionRow) -> Markup {
    html! {
        li {
            a href=(format!("/collection/{}", percent_encode(&c.name))) { (c.display_name) }
            " (" (c.name) ") " (collection_state(c))
            " – " a href=(with_query("/packages", &[("collection", &c.name)])) { "packages" }
        }
    }
}

/// `/collections`: collections grouped by collection group, then the uncategorized ones.
pub(crate) fn list(ctx: &Context<'_>, groups: &[CollectionGroupRow]) -> Markup {
    let all = &ctx.chrome.collections;
    let uncategorized: Vec<&CollectionRow> = all
        .iter()
        .filter(|c| !groups.iter().any(|g| g.collection_ids.contains(&c.id)))
        .collect();
    let content = html! {
        h1 { "Collections" }
        @if all.is_empty() { p.muted { "No collections are configured." } }
        @for g in groups {
            section {
                h2 { (g.display_name) }
                ul.collections {
                    @for c in all.iter().filter(|c| g.collection_ids.contains(&c.id)) { (collection_item(c)) }
                }
            }
        }
        @if !uncategorized.is_empty() {
            section {
                @if !groups.is_empty() { h2 { "Uncategorized" } }
                ul.collections { @for c in uncategorized { (collection_item(c)) } }
            }
        }
    };
    layout(ctx, "Collections", content)
}

/// `/collection/<name>`: the attributes of one collection.
pub(crate) fn detail(ctx: &Context<'_>, c: &CollectionRow) -> Markup {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    let content = html! {
        h1 { (c.display_name) " " (collection_state(c)) }
        table.params {
            tr { th { "Name" } td { (c.name) } }
            tr { th { "Koji target" } td { (c.target) } }
            tr { th { "Destination tag" } td { (c.dest_tag) } }
            tr { th { "Build tag" } td { (c.build_tag) } }
            tr { th { "Build group" } td { (c.build_group) } }
            tr { th { "Latest repo" } td { @match c.latest_repo_id { Some(r) => { (r) } None => { "–" } } } }
            tr { th { "Priority coefficient" } td { (c.priority_coefficient) } }
            tr { th { "Secondary mode" } td { (if c.secondary_mode { "yes" } else { "no" }) } }
            tr { th { "Polls untracked packages" } td { (if c.poll_untracked { "yes" } else { "no" }) } }
            tr { th { "Bugzilla product" } td { (opt(&c.bugzilla_product)) } }
            tr { th { "Bugzilla version" } td { (opt(&c.bugzilla_version)) } }
            tr { th { "Display order" } td { (c.order) } }
        }
        p { a href=(with_query("/packages", &[("collection", &c.name)])) { "Packages of " (c.display_name) } }
    };
    layout(ctx, &c.display_name, content)
}

/// `/groups`: global package groups with their package counts.
pub(crate) fn groups(ctx: &Context<'_>, groups: &[GroupRow]) -> Markup {
    let content = html! {
        h1 { "Groups" }
        @if groups.is_empty() {
            p.muted { "There are no global groups." }
        } @else {
            table.groups {
                thead { tr { th { "Group" } th { "Packages" } } }
                tbody {
                    @for g in groups {
                        tr {
                            td { a href=(ctx.link(&group_path(&g.full_name()))) { (g.full_name()) } }
                            td.num { (g.package_count) }
                        }
                    }
                }
            }
        }
    };
    layout(ctx, "Groups", content)
}
