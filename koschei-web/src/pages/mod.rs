//! Page functions: view-model in, `maud` markup out. Pure, so they get snapshot-style tests.
//!
//! Every value is rendered with maud's escaping `(expr)`; nothing from the database or the
//! request is ever wrapped in `PreEscaped`.

use maud::{DOCTYPE, Markup, html};

use koschei_core::db::web::{Chrome, CollectionRow};
use koschei_core::model::{CollectionId, PackageState};

use crate::params::percent_encode;

pub(crate) mod badge;
pub(crate) mod build;
pub(crate) mod collections;
pub(crate) mod list;
pub(crate) mod misc;
pub(crate) mod package;

/// The tab highlighted in the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Collections,
    Packages,
    Groups,
    Stats,
    Documentation,
    None,
}

/// What the layout needs besides the page content.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// Collections, notice, buildroot problems.
    pub(crate) chrome: &'a Chrome,
    /// The selected collections, in display order.
    pub(crate) current: Vec<&'a CollectionRow>,
    /// The raw `collection=` value when the user chose one (kept in links).
    pub(crate) selection: Option<String>,
    /// Highlighted tab.
    pub(crate) tab: Tab,
}

impl Context<'_> {
    /// `path` with the current collection selection appended as a query.
    pub(crate) fn link(&self, path: &str) -> String {
        self.link_with(path, &[])
    }

    /// `path` with the given query pairs and the collection selection.
    pub(crate) fn link_with(&self, path: &str, pairs: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = Vec::new();
        if let Some(sel) = &self.selection {
            all.push(("collection", sel));
        }
        all.extend(pairs.iter().copied());
        with_query(path, &all)
    }

    /// The collection with the given id.
    pub(crate) fn collection(&self, id: CollectionId) -> Option<&CollectionRow> {
        self.chrome.collections.iter().find(|c| c.id == id)
    }
}

/// `path?k=v&...` with values percent-encoded; empty values are dropped.
pub(crate) fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = path.to_owned();
    let mut first = true;
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        out.push(if first { '?' } else { '&' });
        first = false;
        out.push_str(k);
        out.push('=');
        out.push_str(&percent_encode(v));
    }
    out
}

/// `/package/<name>` with the name encoded.
pub(crate) fn package_path(name: &str) -> String {
    format!("/package/{}", percent_encode(name))
}

/// A state as a coloured label with its name as text.
pub(crate) fn state_label(state: PackageState) -> Markup {
    html! {
        span class={ "state state-" (state.as_str()) } title=(state.as_str()) { (state.as_str()) }
    }
}

/// The whole page around `content`.
pub(crate) fn layout(ctx: &Context<'_>, title: &str, content: Markup) -> Markup {
    let tab = |t: Tab| if ctx.tab == t { "active" } else { "" };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Koschei" }
                link rel="stylesheet" href="/static/koschei.css";
                link rel="icon" type="image/svg+xml" href="/static/favicon.svg";
            }
            body {
                header.top {
                    a.brand href=(ctx.link("/")) { "Koschei" }
                    nav {
                        a class=(tab(Tab::Collections)) href=(ctx.link("/collections")) { "Collections" }
                        a class=(tab(Tab::Packages)) href=(ctx.link("/packages")) { "Packages" }
                        a class=(tab(Tab::Groups)) href=(ctx.link("/groups")) { "Groups" }
                        a class=(tab(Tab::Stats)) href=(ctx.link("/stats")) { "Stats" }
                        a class=(tab(Tab::Documentation)) href="/documentation" { "Documentation" }
                    }
                    form.search action="/search" method="get" {
                        @if let Some(sel) = &ctx.selection {
                            input type="hidden" name="collection" value=(sel);
                        }
                        input type="search" name="q" placeholder="Search packages (* = any)" aria-label="Search packages";
                        button type="submit" { "Search" }
                    }
                }
                @if ctx.chrome.collections.len() > 1 {
                    nav.collections aria-label="Collections" {
                        span { "Collections: " }
                        @let all_selected = ctx.selection.is_none();
                        a class=(if all_selected { "active" } else { "" }) href="/" { "all" }
                        @for c in &ctx.chrome.collections {
                            @let active = !all_selected && ctx.current.iter().any(|x| x.id == c.id);
                            a class=(if active { "active" } else { "" })
                              href=(with_query("/", &[("collection", &c.name)])) { (c.display_name) }
                        }
                    }
                }
                main {
                    @if let Some(notice) = &ctx.chrome.notice {
                        div.notice.admin-notice role="alert" { (notice) }
                    }
                    @for c in &ctx.current {
                        @if c.latest_repo_resolved == Some(false) {
                            div.notice.buildroot role="alert" {
                                strong { "Base buildroot for " (c.display_name) " is not installable." }
                                @if let Some((_, problems)) = ctx.chrome.buildroot_problems.iter().find(|(id, _)| *id == c.id) {
                                    ul { @for p in problems { li { code { (p) } } } }
                                }
                            }
                        }
                    }
                    (content)
                }
                footer { "Koschei – continuous rebuild testing of RPM packages in Koji" }
            }
        }
    }
}

/// Previous / next page links and the position.
pub(crate) fn pager(page: i64, per_page: i64, total: i64, link: &dyn Fn(i64) -> String) -> Markup {
    let last = ((total + per_page - 1) / per_page).max(1);
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 {
                a rel="prev" href=(link(page - 1)) { "« Previous" }
            }
            span { "Page " (page) " of " (last) }
            @if page < last {
                a rel="next" href=(link(page + 1)) { "Next »" }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use koschei_core::db::web::Chrome;

    pub(crate) fn collection(id: i32, name: &str, display: &str) -> CollectionRow {
        CollectionRow {
            id: CollectionId(id),
            name: name.into(),
            display_name: display.into(),
            order: 100,
            secondary_mode: false,
            target: name.into(),
            dest_tag: name.into(),
            build_tag: format!("{name}-build"),
            bugzilla_product: None,
            bugzilla_version: None,
            priority_coefficient: 1.0,
            build_group: "build".into(),
            latest_repo_id: Some(123),
            latest_repo_resolved: Some(true),
            poll_untracked: true,
        }
    }

    #[test]
    fn layout_shows_escaped_notice_and_buildroot_banner() {
        let mut f25 = collection(1, "f25", "Fedora <Rawhide>");
        f25.latest_repo_resolved = Some(false);
        let chrome = Chrome {
            collections: vec![f25],
            notice: Some("<b>maintenance</b> tonight".into()),
            buildroot_problems: vec![(CollectionId(1), vec!["nothing provides <gcc>".into()])],
        };
        let ctx = Context {
            chrome: &chrome,
            current: chrome.collections.iter().collect(),
            selection: Some("f25".into()),
            tab: Tab::Packages,
        };
        let html = layout(&ctx, "T<", html! { p { "body" } }).into_string();
        assert!(
            html.contains("&lt;b&gt;maintenance&lt;/b&gt; tonight"),
            "{html}"
        );
        assert!(html.contains("Base buildroot for Fedora &lt;Rawhide&gt; is not installable."));
        assert!(html.contains("nothing provides &lt;gcc&gt;"));
        assert!(html.contains("<title>T&lt; – Koschei</title>"));
        assert!(html.contains(r#"href="/groups?collection=f25""#));
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn query_links_encode_values() {
        assert_eq!(
            with_query("/search", &[("q", "a&b c"), ("page", ""), ("x", "1")]),
            "/search?q=a%26b%20c&x=1"
        );
        assert_eq!(package_path("<x>"), "/package/%3Cx%3E");
    }
}
