//! The configured links of the package page and the pre-filled bug report of "File new FTBFS
//! bug" (`[[links]]`, `[bugreport]`), rendered as the original did. Pure.

use koschei_core::config::{BugreportConfig, Link};
use koschei_core::db::web::CollectionRow;
use koschei_core::model::Evr;

/// `urllib.parse.quote_plus`: unreserved characters kept, space as `+`, the rest `%XX`.
pub(crate) fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') => {
                out.push(b as char);
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The package a template talks about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub(crate) id: i32,
    pub(crate) name: &'a str,
    pub(crate) collection: &'a CollectionRow,
}

/// An attribute of the collection (`None` for a missing optional value).
fn collection_value(c: &CollectionRow, path: &[String]) -> Option<String> {
    match path.first().map(String::as_str) {
        // `str(collection)` in the original is its display name.
        None | Some("display_name") => Some(c.display_name.clone()),
        Some("id") => Some(c.id.0.to_string()),
        Some("name") => Some(c.name.clone()),
        Some("target") => Some(c.target.clone()),
        Some("dest_tag") => Some(c.dest_tag.clone()),
        Some("build_tag") => Some(c.build_tag.clone()),
        Some("build_group") => Some(c.build_group.clone()),
        Some("bugzilla_product") => c.bugzilla_product.clone(),
        Some("bugzilla_version") => c.bugzilla_version.clone(),
        Some(_) => None,
    }
}

/// `package[.…]` (the path after `package`).
fn package_value(p: &Subject<'_>, path: &[String]) -> Option<String> {
    match path.first().map(String::as_str) {
        None | Some("name") => Some(p.name.to_owned()),
        Some("id") => Some(p.id.to_string()),
        Some("collection") => collection_value(p.collection, &path[1..]),
        Some(_) => None,
    }
}

/// The package page's links: each configured URL with the package's values URL-encoded;
/// a link whose value is missing (a collection without a Bugzilla product) is left out.
pub(crate) fn package_links(links: &[Link], p: &Subject<'_>) -> Vec<(String, String)> {
    links
        .iter()
        .filter_map(|l| {
            let url = l
                .url
                .render(|path| match path.first().map(String::as_str) {
                    Some("package") => package_value(p, &path[1..]).map(|v| quote_plus(&v)),
                    _ => None,
                })?;
            Some((l.name.clone(), url))
        })
        .collect()
}

/// Removes the common leading whitespace of the lines (Python's `textwrap.dedent`).
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                &l[indent.min(l.len())..]
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Bugzilla URL of "File new FTBFS bug" for the SRPM `evr` of package `p`, whose page
/// is at `package_url`: every template field filled in (missing values empty), the comment
/// dedented and trimmed, the fields URL-encoded into the URL's `{query}`.
pub(crate) fn bugreport_url(
    config: &BugreportConfig,
    p: &Subject<'_>,
    evr: &Evr,
    package_url: &str,
) -> String {
    let value = |path: &[String]| -> Option<String> {
        let v = match path.first().map(String::as_str) {
            Some("name") => Some(p.name.to_owned()),
            Some("version") => Some(evr.version.clone()),
            Some("release") => Some(evr.release.clone()),
            Some("arch") => Some("src".to_owned()),
            Some("url") => Some(package_url.to_owned()),
            Some("package") => package_value(p, &path[1..]),
            Some("collection") => collection_value(p.collection, &path[1..]),
            _ => None,
        };
        Some(v.unwrap_or_default())
    };
    let query = config
        .template
        .iter()
        .map(|(field, t)| {
            let mut text = t.render(value).unwrap_or_default();
            if field == "comment" {
                text = dedent(&text).trim().to_owned();
            }
            format!("{}={}", quote_plus(field), quote_plus(&text))
        })
        .collect::<Vec<_>>()
        .join("&");
    config
        .url
        .render(|_| Some(query.clone()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use koschei_core::config::Config;

    fn collection() -> CollectionRow {
        let mut c = crate::pages::tests::collection(1, "f25", "Fedora Rawhide");
        c.bugzilla_product = Some("Fedora".into());
        c.bugzilla_version = Some("25".into());
        c
    }

    #[test]
    fn default_links_are_the_originals_with_encoded_values() {
        let config = Config::from_texts(&[], None).unwrap();
        let c = collection();
        let p = Subject {
            id: 7,
            name: "gcc-c++",
            collection: &c,
        };
        let links = package_links(&config.links, &p);
        let names: Vec<&str> = links.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Packages", "Bugzilla", "Bodhi", "Dist-git", "Koji"]);
        assert_eq!(
            links[0].1,
            "https://packages.fedoraproject.org/pkgs/gcc-c%2B%2B"
        );
        assert_eq!(
            links[1].1,
            "https://bugzilla.redhat.com/buglist.cgi?product=Fedora&component=gcc-c%2B%2B"
        );
        // No Bugzilla product: that link is left out.
        let mut c = collection();
        c.bugzilla_product = None;
        let p = Subject {
            collection: &c,
            ..p
        };
        let names: Vec<String> = package_links(&config.links, &p)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["Packages", "Bodhi", "Dist-git", "Koji"]);
    }

    #[test]
    fn bug_report_is_the_originals() {
        // The original's web test: groovy 1-1.fc25 in Fedora Rawhide (f25, product Fedora,
        // version 25).
        let config = Config::from_texts(&[], None).unwrap();
        let c = collection();
        let p = Subject {
            id: 1,
            name: "groovy",
            collection: &c,
        };
        let evr = Evr::new(None, "1", "1.fc25");
        let url = bugreport_url(
            &config.bugreport,
            &p,
            &evr,
            "http://example.com/package/groovy",
        );
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://bugzilla.redhat.com/enter_bug.cgi");
        let fields: std::collections::BTreeMap<String, String> = query
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (
                    crate::params::percent_decode(k, true),
                    crate::params::percent_decode(v, true),
                )
            })
            .collect();
        assert_eq!(fields["product"], "Fedora");
        assert_eq!(fields["version"], "25");
        assert_eq!(fields["component"], "groovy");
        assert_eq!(fields["short_desc"], "groovy: FTBFS in Fedora Rawhide");
        assert_eq!(fields["bug_file_loc"], "http://example.com/package/groovy");
        let comment = &fields["comment"];
        assert!(comment.contains("1-1.fc25"), "{comment}");
        assert!(
            comment.contains("koji build --scratch f25 groovy-1-1.fc25.src.rpm"),
            "{comment}"
        );
        assert!(comment.starts_with("Description of problem:"), "{comment}");
        assert!(
            comment.ends_with("http://example.com/package/groovy"),
            "{comment}"
        );
    }

    #[test]
    fn dedent_and_quote_plus_match_python() {
        assert_eq!(dedent("  a\n    b\n\n  c"), "a\n  b\n\nc");
        assert_eq!(quote_plus("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
