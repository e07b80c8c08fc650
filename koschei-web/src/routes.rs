//! The router: request target in, [`Reply`] out. Loads view models through
//! `koschei_core::db::web` in one read-only transaction per request and hands them to the
//! page functions.

use std::time::SystemTime;

use tiny_http::Method;

use koschei_core::config::Frontpage;
use koschei_core::db;
use koschei_core::db::web::{
    self as q, Chrome, CollectionRow, ListFilter, ListQuery, Reader, UnifiedQuery,
};
use koschei_core::model::{BuildId, CollectionId, Evr};

use crate::api;
use crate::format::from_unix;
use crate::links::{self, Subject};
use crate::pages::list::{ListBody, ListView};
use crate::pages::package::PackageView;
use crate::pages::{self, Context, Tab};
use crate::params::{
    self, BadParam, DEFAULT_ORDER, DEFAULT_UNIFIED_ORDER, Target, like_pattern, parse_order,
    parse_unified_order,
};
use crate::server::{AppState, Reply, is_read};

const CSS: &str = include_str!("../static/koschei.css");
const FAVICON: &str = include_str!("../static/favicon.svg");

/// Why a request did not produce its page.
#[derive(Debug)]
enum Failure {
    NotFound(String),
    BadRequest(String),
    Db(db::Error),
    Pool(r2d2::Error),
}

impl From<db::Error> for Failure {
    fn from(e: db::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<BadParam> for Failure {
    fn from(e: BadParam) -> Self {
        Failure::BadRequest(e.to_string())
    }
}

impl From<postgres::Error> for Failure {
    fn from(source: postgres::Error) -> Self {
        Failure::Db(db::Error::Query {
            what: "transaction",
            source,
        })
    }
}

/// The reply for failures that are not the page's business (the database is down).
fn server_failure(f: &Failure) -> Option<Reply> {
    match f {
        Failure::Pool(e) => {
            tracing::warn!(error = %e, "no database connection");
            Some(Reply::text(503, "database unavailable, try again later\n"))
        }
        Failure::Db(e) if e.is_unavailable() => {
            tracing::warn!(error = %format!("{e:#}"), "database unavailable");
            Some(Reply::text(503, "database unavailable, try again later\n"))
        }
        Failure::Db(e) if schema_missing(e) => {
            tracing::error!(error = ?e, "database schema is not current");
            Some(Reply::text(
                503,
                "database schema is not current: run `koschei db migrate`\n",
            ))
        }
        Failure::Db(e) => {
            tracing::error!(error = ?e, "database query failed");
            Some(Reply::text(500, "internal server error\n"))
        }
        Failure::NotFound(_) | Failure::BadRequest(_) => None,
    }
}

/// Whether a query failed because a table or column does not exist (an unmigrated or
/// outdated database).
fn schema_missing(e: &db::Error) -> bool {
    match e {
        db::Error::Query { source, .. } => source
            .code()
            .is_some_and(|c| matches!(c.code(), "42P01" | "42703")),
        _ => false,
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "the server is the shell: it reads the clock once per request and passes `now` on"
)]
fn now() -> SystemTime {
    SystemTime::now()
}

/// Runs `f` on a pooled connection through a [`Reader`] (read-only, statements prepared once
/// per connection).
///
/// Pooled connections are not tested on checkout; one that died while idle (the server
/// restarted, `pg_terminate_backend`) fails at its first statement, and one that dies during
/// the request (a failover, a backend terminated mid-query) fails in a later one. Either way
/// the request only read, so it is run again on another connection. Dead connections are
/// held until a live one is found, so that the pool cannot hand the same one out again, and
/// at most `max_size + 1` connections are tried.
fn with_db<T>(
    state: &AppState,
    mut f: impl FnMut(&mut Reader) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let attempts = usize::try_from(state.pool.max_size())
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut dead = Vec::new();
    loop {
        let mut db = Reader::new(state.pool.get().map_err(Failure::Pool)?);
        let failure = match f(&mut db) {
            Ok(out) => return Ok(out),
            Err(failure) => failure,
        };
        let lost = matches!(&failure, Failure::Db(e) if e.is_unavailable()) || db.is_closed();
        if !lost || dead.len() + 1 >= attempts {
            return Err(failure);
        }
        tracing::debug!(error = ?failure, "database connection was lost, trying another");
        dead.push(db);
    }
}

/// Answers one request.
pub(crate) fn route(state: &AppState, method: &Method, url: &str, host: Option<&str>) -> Reply {
    if !is_read(method) {
        return Reply::text(405, "method not allowed: this site is read-only\n")
            .with_header("Allow", "GET, HEAD");
    }
    let t = Target::parse(url);
    // PostgreSQL text cannot hold NUL; refuse it here rather than fail a query.
    if t.segments
        .iter()
        .chain(t.query.iter().flat_map(|(k, v)| [k, v]))
        .any(|s| s.contains('\0'))
    {
        return Reply::text(400, "bad request: NUL byte in the URL\n");
    }
    let mut segs: Vec<&str> = t.segments.iter().map(String::as_str).collect();
    if segs.is_empty() {
        segs = frontpage(&state.options.frontpage);
    }
    let ttl = state.options.cache_ttl;
    let cacheable =
        !ttl.is_zero() && !matches!(segs.first(), Some(&"healthz" | &"static" | &"metrics"));
    let started = std::time::Instant::now();
    let key = if cacheable {
        params::cache_key(&t)
    } else {
        String::new()
    };
    if cacheable && let Some(hit) = state.cache.get(&key, ttl, started) {
        return hit;
    }
    let reply = route_uncached(state, &t, &segs, host);
    if cacheable {
        state.cache.put(&key, &reply, started);
    }
    reply
}

/// The page `/` shows, as the path segments of that page.
fn frontpage(page: &Frontpage) -> Vec<&str> {
    match page {
        Frontpage::CollectionList => vec!["collections"],
        Frontpage::GroupsOverview => vec!["groups"],
        Frontpage::Statistics => vec!["stats"],
        Frontpage::Documentation => vec!["documentation"],
        Frontpage::GroupDetail { namespace, name } => {
            let mut segs = vec!["groups"];
            segs.extend(namespace.as_deref());
            segs.push(name);
            segs
        }
        // The package list, and front pages of later versions this one does not know.
        Frontpage::PackageList | _ => Vec::new(),
    }
}

fn route_uncached(state: &AppState, t: &Target, segs: &[&str], host: Option<&str>) -> Reply {
    match segs {
        ["static", "koschei.css"] => {
            let mut r = Reply::text(200, CSS).with_header("Cache-Control", "public, max-age=86400");
            r.content_type = "text/css; charset=utf-8";
            r
        }
        ["static", "favicon.svg"] | ["favicon.ico"] => {
            let mut r =
                Reply::text(200, FAVICON).with_header("Cache-Control", "public, max-age=86400");
            r.content_type = "image/svg+xml";
            r
        }
        ["healthz"] => match with_db(state, |db| Ok(q::healthcheck(db)?)) {
            Ok(v) if v.is_current() => Reply::text(200, "ok\n"),
            Ok(v) => {
                let found = v.found.map_or_else(|| "none".to_owned(), |f| f.to_string());
                tracing::warn!(found, needed = v.needed, "database schema is not current");
                Reply::text(
                    503,
                    &format!(
                        "database schema is not current: version {found}, koschei-web needs {}; run `koschei db migrate`\n",
                        v.needed
                    ),
                )
            }
            Err(f) => {
                server_failure(&f).unwrap_or_else(|| Reply::text(503, "database unavailable\n"))
            }
        },
        ["metrics"] => {
            // The process's own figures even when the database is down (database_up 0).
            let collections = with_db(state, |db| {
                if !q::healthcheck(db)?.is_current() {
                    return Ok(None);
                }
                Ok(Some(q::collection_metrics(db)?))
            })
            .unwrap_or_else(|f| {
                let _ = server_failure(&f);
                None
            });
            let mut r = Reply::text(
                200,
                &crate::metrics::render(collections.as_deref(), &state.http),
            );
            r.content_type = "text/plain; version=0.0.4; charset=utf-8";
            r
        }
        ["api", "v1", rest @ ..] => api_route(state, t, rest),
        ["badge", coll, file] => badge(state, coll, file),
        _ => page_route(state, t, segs, host),
    }
}

fn json_error(status: u16, message: &str) -> Reply {
    Reply::json(status, &serde_json::json!({ "error": message }))
}

fn api_route(state: &AppState, t: &Target, rest: &[&str]) -> Reply {
    let result = with_db(state, |db| {
        // The collections are read only where a collection name is to be resolved.
        let find = |all: &[CollectionRow], name: &str| -> Result<CollectionRow, Failure> {
            all.iter()
                .find(|c| c.name == name)
                .cloned()
                .ok_or_else(|| Failure::NotFound(format!("collection `{name}` not found")))
        };
        match rest {
            ["packages"] => {
                let names: Vec<String> = t.all("name").into_iter().map(str::to_owned).collect();
                let mut cids = Vec::new();
                let wanted = t.all("collection");
                if !wanted.is_empty() {
                    let all = q::collections(db)?;
                    for c in wanted {
                        cids.push(find(&all, c)?.id);
                    }
                }
                let mut body = api::PackagesWriter::new();
                q::api_packages(db, &names, &cids, |p| {
                    body.push(p);
                    Ok(())
                })?;
                Ok(body.finish())
            }
            ["packages", name] => {
                let all = q::collections(db)?;
                let selected: Vec<CollectionRow> = match t.get("collection") {
                    Some(sel) if !sel.is_empty() => sel
                        .split(',')
                        .map(|n| find(&all, n.trim()))
                        .collect::<Result<_, _>>()?,
                    _ => all.clone(),
                };
                let now = now();
                let mut entries = Vec::new();
                for c in &selected {
                    if let Some(d) = q::package_detail(db, name, c.id)? {
                        let changes = q::dependency_changes_of_package(db, d.id)?;
                        entries.push(api::package_detail(
                            &d,
                            c,
                            &changes,
                            &state.options.priority,
                            now,
                        ));
                    }
                }
                if entries.is_empty() {
                    return Err(Failure::NotFound(format!("package `{name}` not found")));
                }
                Ok(serde_json::json!({ "name": name, "collections": entries })
                    .to_string()
                    .into_bytes())
            }
            ["collections", "diff", c1, c2] => {
                let all = q::collections(db)?;
                let (a, b) = (find(&all, c1)?, find(&all, c2)?);
                Ok(
                    api::diff(&a.name, &b.name, &q::collection_diff(db, a.id, b.id)?)
                        .to_string()
                        .into_bytes(),
                )
            }
            _ => Err(Failure::NotFound("no such API endpoint".into())),
        }
    });
    match result {
        Ok(body) => Reply::json_body(200, body),
        Err(Failure::NotFound(m)) => json_error(404, &m),
        Err(Failure::BadRequest(m)) => json_error(400, &m),
        Err(f) => server_failure(&f).unwrap_or_else(|| json_error(500, "internal error")),
    }
}

fn badge(state: &AppState, coll: &str, file: &str) -> Reply {
    let Some(name) = file.strip_suffix(".svg") else {
        return Reply::text(404, "badges are available as .svg\n");
    };
    let result = with_db(state, |db| {
        let collections = q::collections(db)?;
        let c = collections
            .iter()
            .find(|c| c.name == coll)
            .ok_or_else(|| Failure::NotFound(format!("collection `{coll}` not found")))?;
        q::package_state(db, c.id, name)?
            .ok_or_else(|| Failure::NotFound(format!("package `{name}` not found")))
    });
    match result {
        Ok(s) => {
            let mut r = Reply::text(200, &pages::badge::svg(s))
                .with_header("Cache-Control", "public, max-age=300");
            r.content_type = "image/svg+xml";
            r
        }
        Err(Failure::NotFound(m)) | Err(Failure::BadRequest(m)) => Reply::text(404, &(m + "\n")),
        Err(f) => server_failure(&f).unwrap_or_else(|| Reply::text(500, "internal error\n")),
    }
}

/// Resolves `?collection=a,b` (unknown → 404); default all collections.
fn selection<'c>(
    chrome: &'c Chrome,
    t: &Target,
) -> Result<(Vec<&'c CollectionRow>, Option<String>), Failure> {
    match t.get("collection") {
        Some(sel) if !sel.trim().is_empty() => {
            let mut out: Vec<&CollectionRow> = Vec::new();
            for name in sel.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let c = chrome
                    .collections
                    .iter()
                    .find(|c| c.name == name)
                    .ok_or_else(|| Failure::NotFound(format!("Collection {name} not found")))?;
                if !out.iter().any(|x| x.id == c.id) {
                    out.push(c);
                }
            }
            // Display order, not the order given.
            out.sort_by_key(|c| {
                chrome
                    .collections
                    .iter()
                    .position(|x| x.id == c.id)
                    .unwrap_or(usize::MAX)
            });
            Ok((out, Some(sel.to_owned())))
        }
        _ => Ok((chrome.collections.iter().collect(), None)),
    }
}

fn page_route(state: &AppState, t: &Target, segs: &[&str], host: Option<&str>) -> Reply {
    let tab = match segs.first().copied() {
        None | Some("packages" | "search" | "package" | "build" | "affected-by") => Tab::Packages,
        Some("collections" | "collection") => Tab::Collections,
        Some("groups") => Tab::Groups,
        Some("stats") => Tab::Stats,
        Some("documentation") => Tab::Documentation,
        Some(_) => Tab::None,
    };
    let result = with_db(state, |db| {
        let chrome = q::chrome(db)?;
        let fallback = Context {
            chrome: &chrome,
            current: chrome.collections.iter().collect(),
            selection: None,
            tab,
        };
        let ctx = match selection(&chrome, t) {
            Ok((current, selection)) => Context {
                chrome: &chrome,
                current,
                selection,
                tab,
            },
            Err(Failure::NotFound(m)) => {
                return Ok(Reply::html(404, pages::misc::error(&fallback, 404, &m)));
            }
            Err(e) => return Err(e),
        };
        match dispatch(state, db, &ctx, t, segs, host) {
            Ok(r) => Ok(r),
            Err(Failure::NotFound(m)) => Ok(Reply::html(404, pages::misc::error(&ctx, 404, &m))),
            Err(Failure::BadRequest(m)) => Ok(Reply::html(400, pages::misc::error(&ctx, 400, &m))),
            Err(e) => Err(e),
        }
    });
    match result {
        Ok(r) => r,
        Err(f) => server_failure(&f).unwrap_or_else(|| Reply::text(500, "internal error\n")),
    }
}

fn dispatch(
    state: &AppState,
    db: &mut Reader,
    ctx: &Context<'_>,
    t: &Target,
    segs: &[&str],
    host: Option<&str>,
) -> Result<Reply, Failure> {
    let html = |m| Ok(Reply::html(200, m));
    match segs {
        ["bugreport", name] => bugreport(state, db, ctx, name, host),
        [] | ["packages"] => list(state, db, ctx, t, ListSpec::all()),
        ["search"] => {
            let query = t.get("q").unwrap_or_default().trim().to_owned();
            if query.is_empty() {
                return Ok(Reply::redirect(&ctx.link("/")));
            }
            let spec = ListSpec {
                heading: format!("Search results for “{query}”"),
                path: "/search".into(),
                keep: vec![("q", query.clone())],
                filter: ListFilter::NameLike(like_pattern(&query)),
                intro: None,
            };
            list(state, db, ctx, t, spec)
        }
        ["groups"] => html(pages::collections::groups(ctx, &q::global_groups(db)?)),
        ["groups", rest @ ..] if rest.len() <= 2 => {
            let (ns, name) = match rest {
                [ns, name] => (Some(*ns), *name),
                [name] => (None, *name),
                _ => return Err(Failure::NotFound("no such group".into())),
            };
            let g = q::group_by_name(db, ns, name)?
                .ok_or_else(|| Failure::NotFound(format!("Group {} not found", full(ns, name))))?;
            let path = format!(
                "/groups/{}",
                segs[1..]
                    .iter()
                    .map(|s| params::percent_encode(s))
                    .collect::<Vec<_>>()
                    .join("/")
            );
            let maintainers = q::group_maintainers(db, g.id)?;
            let intro = maud::html! {
                p.subtitle { (g.package_count) " packages in this group." }
                @if !maintainers.is_empty() {
                    p.maintainers { "Maintainers: " (maintainers.join(", ")) }
                }
            };
            let spec = ListSpec {
                heading: format!("Group {}", g.full_name()),
                path,
                keep: vec![],
                filter: ListFilter::Group(g.id),
                intro: Some(intro),
            };
            list(state, db, ctx, t, spec)
        }
        ["package", name] => package(state, db, ctx, t, name),
        ["build", id] => {
            let id: i32 = id
                .parse()
                .map_err(|_| Failure::BadRequest(format!("invalid build id `{id}`")))?;
            let b = q::build_detail(db, BuildId(id))?
                .ok_or_else(|| Failure::NotFound(format!("Build {id} not found")))?;
            let c = ctx
                .collection(b.collection_id)
                .ok_or_else(|| Failure::NotFound(format!("Build {id} not found")))?;
            html(pages::build::page(
                ctx,
                &b,
                c,
                &state.koji,
                state.secondary_koji.as_ref(),
            ))
        }
        ["collections"] => html(pages::collections::list(ctx, &q::collection_groups(db)?)),
        ["collection", name] => {
            let c = ctx
                .chrome
                .collections
                .iter()
                .find(|c| c.name == *name)
                .ok_or_else(|| Failure::NotFound(format!("Collection {name} not found")))?;
            html(pages::collections::detail(ctx, c))
        }
        ["affected-by", dep] => affected_by(state, db, ctx, t, dep),
        ["stats"] => {
            let page = t.page()?;
            let per_page = 20;
            let scalar = q::scalar_stats(db)?;
            let (total, rows) = q::resource_stats(db, (page - 1) * per_page, per_page)?;
            html(pages::misc::stats(
                ctx,
                scalar.as_ref(),
                &rows,
                total,
                page,
                per_page,
            ))
        }
        ["documentation"] => html(pages::misc::documentation(ctx)),
        _ => Err(Failure::NotFound(format!(
            "There is no page at {}",
            t.raw_path
        ))),
    }
}

fn full(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

struct ListSpec {
    heading: String,
    path: String,
    keep: Vec<(&'static str, String)>,
    filter: ListFilter,
    intro: Option<maud::Markup>,
}

impl ListSpec {
    fn all() -> Self {
        ListSpec {
            heading: "Package summary".into(),
            path: "/packages".into(),
            keep: vec![],
            filter: ListFilter::All,
            intro: None,
        }
    }
}

fn list(
    state: &AppState,
    db: &mut Reader,
    ctx: &Context<'_>,
    t: &Target,
    spec: ListSpec,
) -> Result<Reply, Failure> {
    let page = t.page()?;
    let untracked = t.untracked();
    let per_page = state.options.packages_per_page;
    let now = now();
    let own_path = spec.path;
    let unified = ctx.current.len() > 1;
    let default = if unified {
        DEFAULT_UNIFIED_ORDER
    } else {
        DEFAULT_ORDER
    };
    let order_spec = match t.get("order_by") {
        Some(o) if !o.trim().is_empty() => o.to_owned(),
        _ => default.to_owned(),
    };
    let view = ListView {
        heading: spec.heading,
        path: &own_path,
        keep: spec.keep,
        order_spec: order_spec.clone(),
        untracked,
        page,
        per_page,
        now,
        weights: state.options.priority,
        koji: &state.koji,
        intro: spec.intro,
    };
    let offset = (page - 1) * per_page;
    let markup = if unified {
        let names: Vec<(CollectionId, &str)> = ctx
            .current
            .iter()
            .map(|c| (c.id, c.name.as_str()))
            .collect();
        let query = UnifiedQuery {
            collections: ctx.current.iter().map(|c| c.id).collect(),
            filter: spec.filter,
            untracked,
            order: parse_unified_order(&order_spec, &names),
            offset,
            limit: per_page,
        };
        let rows = q::unified_list(db, &query)?;
        pages::list::page(ctx, &view, &ListBody::Unified(&rows, ctx.current.clone()))
    } else if let Some(c) = ctx.current.first() {
        let query = ListQuery {
            collection: c.id,
            filter: spec.filter,
            untracked,
            order: parse_order(&order_spec),
            offset,
            limit: per_page,
            time_priority: crate::priority::time_priority(&state.options.priority, now),
        };
        let mut rows = q::package_list(db, &query)?;
        // The total is read in the same statement as the rows, but never show fewer than
        // are listed.
        let listed = offset + i64::try_from(rows.rows.len()).unwrap_or(0);
        rows.total = rows.total.max(listed);
        pages::list::page(ctx, &view, &ListBody::Single(&rows, c))
    } else {
        return Err(Failure::NotFound(
            "No collections are configured yet.".into(),
        ));
    };
    Ok(Reply::html(200, markup))
}

fn package(
    state: &AppState,
    db: &mut Reader,
    ctx: &Context<'_>,
    t: &Target,
    name: &str,
) -> Result<Reply, Failure> {
    let before = match t.get("last_seen_ts") {
        None | Some("") => None,
        Some(v) => match v.parse::<i64>() {
            // Up to the end of year 9999, which every time type on the way can hold.
            Ok(secs) if (0..=253_402_300_799).contains(&secs) => Some(from_unix(secs)),
            _ => {
                return Err(BadParam {
                    name: "last_seen_ts".into(),
                    value: v.into(),
                    reason: "expected seconds since 1970",
                }
                .into());
            }
        },
    };
    let mut found = None;
    for c in &ctx.current {
        if let Some(d) = q::package_detail(db, name, c.id)? {
            found = Some((d, *c));
            break;
        }
    }
    let (detail, collection) =
        found.ok_or_else(|| Failure::NotFound(format!("Package {name} not found")))?;
    let unapplied = q::unapplied_changes(db, detail.id)?;
    let limit = state.options.builds_per_page;
    let history = q::package_history(db, detail.id, before, limit)?;
    let subject = Subject {
        id: detail.id.0,
        name: &detail.name,
        collection,
    };
    let links = links::package_links(&state.options.links, &subject);
    // As in the original: only where the collection has a Bugzilla version, and only for a
    // package the bug form can be filled in for.
    let bugreport = (collection.bugzilla_version.is_some()
        && !detail.flags.blocked
        && detail.last_complete_build.is_some())
    .then(|| {
        pages::with_query(
            &format!("/bugreport/{}", params::percent_encode(&detail.name)),
            &[("collection", &collection.name)],
        )
    });
    let view = PackageView {
        detail: &detail,
        collection,
        links: &links,
        bugreport: bugreport.as_deref(),
        unapplied: &unapplied,
        history: &history,
        history_limit: usize::try_from(limit).unwrap_or(usize::MAX),
        older: before.is_some(),
        now: now(),
        weights: state.options.priority,
        koji: &state.koji,
        secondary_koji: state.secondary_koji.as_ref(),
    };
    Ok(Reply::html(200, pages::package::page(ctx, &view)))
}

/// `/bugreport/<name>`: a redirect to the bug form filled in from `[bugreport]` for the
/// package in the first selected collection (not blocked, with a complete build).
fn bugreport(
    state: &AppState,
    db: &mut Reader,
    ctx: &Context<'_>,
    name: &str,
    host: Option<&str>,
) -> Result<Reply, Failure> {
    let not_found = || Failure::NotFound(format!("Package {name} not found"));
    let collection = *ctx.current.first().ok_or_else(not_found)?;
    let detail = q::package_detail(db, name, collection.id)?.ok_or_else(not_found)?;
    if detail.flags.blocked {
        return Err(not_found());
    }
    let evr = detail
        .last_complete_build
        .as_ref()
        .and_then(|b| b.evr.clone())
        .ok_or_else(|| Failure::NotFound(format!("Package {name} has no complete build")))?;
    let base = match (&state.options.external_url, host) {
        (Some(u), _) => u.clone(),
        (None, Some(h)) => format!("http://{h}"),
        (None, None) => String::new(),
    };
    let package_url = format!("{base}{}", pages::package_path(&detail.name));
    let subject = Subject {
        id: detail.id.0,
        name: &detail.name,
        collection,
    };
    Ok(Reply::redirect(&links::bugreport_url(
        &state.options.bugreport,
        &subject,
        &evr,
        &package_url,
    )))
}

fn affected_by(
    state: &AppState,
    db: &mut Reader,
    ctx: &Context<'_>,
    t: &Target,
    dep: &str,
) -> Result<Reply, Failure> {
    let [collection] = ctx.current.as_slice() else {
        return Err(Failure::BadRequest(
            "affected-by needs exactly one collection (add ?collection=NAME)".into(),
        ));
    };
    let evr = |n: &str| -> Result<Evr, Failure> {
        let get = |k: String| -> Result<String, Failure> {
            match t.get(&k) {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(Failure::BadRequest(format!("missing parameter `{k}`"))),
            }
        };
        let epoch = match t.get(&format!("epoch{n}")) {
            None | Some("") => None,
            Some(e) => Some(e.parse::<i32>().map_err(|_| BadParam {
                name: format!("epoch{n}"),
                value: e.into(),
                reason: "expected a number",
            })?),
        };
        Ok(Evr::new(
            epoch,
            get(format!("version{n}"))?,
            get(format!("release{n}"))?,
        ))
    };
    let (evr1, evr2) = (evr("1")?, evr("2")?);
    let rows = q::affected_by(db, collection.id, dep, &evr1, &evr2)?;
    Ok(Reply::html(
        200,
        pages::misc::affected_by(ctx, collection, dep, &evr1, &evr2, &rows, &state.koji),
    ))
}
