//! Parsing of request targets: percent-decoding, query strings and the list parameters
//! (`order_by`, `page`, `untracked`, search patterns). Pure.

use koschei_core::db::web::{Direction, OrderKey, UnifiedOrderKey};
use koschei_core::model::CollectionId;

/// A request parameter that is present but unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value `{value}` for parameter `{name}`: {reason}")]
pub(crate) struct BadParam {
    /// Parameter name.
    pub(crate) name: String,
    /// The value received.
    pub(crate) value: String,
    /// Why it is refused.
    pub(crate) reason: &'static str,
}

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`); invalid escapes are kept
/// literally and invalid UTF-8 is replaced, so decoding never fails.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        // Two hex digits make at most 255.
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a path segment or query value: everything except unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A parsed request target: decoded path segments and query pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Target {
    /// The raw path (still encoded), always starting with `/`.
    pub(crate) raw_path: String,
    /// Decoded, non-empty path segments.
    pub(crate) segments: Vec<String>,
    /// Decoded query pairs in order.
    pub(crate) query: Vec<(String, String)>,
}

impl Target {
    /// Parses `/a/b%20c?x=1&y=2`.
    pub(crate) fn parse(url: &str) -> Self {
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, q),
            None => (url, ""),
        };
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect();
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
                None => (percent_decode(p, true), String::new()),
            })
            .collect();
        Target {
            raw_path: if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            },
            segments,
            query,
        }
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `page=` (1-based, default 1).
    pub(crate) fn page(&self) -> Result<i64, BadParam> {
        match self.get("page") {
            None | Some("") => Ok(1),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
                _ => Err(BadParam {
                    name: "page".into(),
                    value: v.into(),
                    reason: "expected a page number from 1",
                }),
            },
        }
    }

    /// `untracked=1` (anything else, or absent, is false).
    pub(crate) fn untracked(&self) -> bool {
        self.get("untracked") == Some("1")
    }
}

/// The query parameters some route reads; others change nothing in a response.
pub(crate) const KNOWN_PARAMS: &[&str] = &[
    "collection",
    "order_by",
    "page",
    "untracked",
    "q",
    "last_seen_ts",
    "name",
    "epoch1",
    "version1",
    "release1",
    "epoch2",
    "version2",
    "release2",
];

/// The response cache's key of a target: its path and the known query parameters in their
/// order, so that junk parameters can neither split one page into many cache entries nor
/// grow an entry.
pub(crate) fn cache_key(t: &Target) -> String {
    let mut key = t.raw_path.clone();
    let mut first = true;
    for (k, v) in &t.query {
        if !KNOWN_PARAMS.contains(&k.as_str()) {
            continue;
        }
        key.push(if first { '?' } else { '&' });
        first = false;
        key.push_str(k);
        key.push('=');
        key.push_str(&percent_encode(v));
    }
    key
}

fn split_order(spec: &str) -> impl Iterator<Item = (&str, Direction)> {
    spec.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| match k.strip_prefix('-') {
            Some(k) => (k, Direction::Desc),
            None => (k, Direction::Asc),
        })
}

/// Default `order_by` of the single-collection list.
pub(crate) const DEFAULT_ORDER: &str = "running,state,name";
/// Default `order_by` of the unified list.
pub(crate) const DEFAULT_UNIFIED_ORDER: &str = "running,failing,name";

/// Parses `order_by` of the single-collection list; unknown keys are ignored, repeated
/// keys count once (first wins).
pub(crate) fn parse_order(spec: &str) -> Vec<(OrderKey, Direction)> {
    let mut out: Vec<(OrderKey, Direction)> = Vec::new();
    for (name, dir) in split_order(spec) {
        let key = match name {
            "name" => OrderKey::Name,
            "state" => OrderKey::State,
            "running" => OrderKey::Running,
            "task_id" => OrderKey::TaskId,
            "started" => OrderKey::Started,
            "current_priority" => OrderKey::CurrentPriority,
            _ => continue,
        };
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, dir));
        }
    }
    out
}

/// Parses `order_by` of the unified list; `state-<collection>` keys name one of
/// `collections` (by name), unknown keys are ignored.
pub(crate) fn parse_unified_order(
    spec: &str,
    collections: &[(CollectionId, &str)],
) -> Vec<(UnifiedOrderKey, Direction)> {
    let mut out: Vec<(UnifiedOrderKey, Direction)> = Vec::new();
    for (name, dir) in split_order(spec) {
        let key = match name {
            "name" => UnifiedOrderKey::Name,
            "running" => UnifiedOrderKey::Running,
            "failing" => UnifiedOrderKey::Failing,
            other => match other.strip_prefix("state-") {
                Some(coll) => match collections.iter().find(|(_, n)| *n == coll) {
                    Some((id, _)) => UnifiedOrderKey::State(*id),
                    None => continue,
                },
                None => continue,
            },
        };
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, dir));
        }
    }
    out
}

/// Turns a search query into a case-insensitive `LIKE` pattern: a substring match where
/// `*` matches anything; `%`, `_` and `\` match themselves.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.trim().chars() {
        match c {
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '*' => out.push('%'),
            c => out.push(c),
        }
    }
    out.push('%');
    out
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_handles_escapes_plus_and_garbage() {
        assert_eq!(percent_decode("a%20b", false), "a b");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%3Cscript%3E", false), "<script>");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
        assert_eq!(percent_decode("%C3%A9", false), "é");
    }

    #[test]
    fn percent_encoding_round_trips() {
        for s in ["<script>alert(1)</script>", "a b/c?d&e", "gcc-c++", "é"] {
            assert_eq!(percent_decode(&percent_encode(s), false), s);
        }
        assert_eq!(percent_encode("gcc-c++"), "gcc-c%2B%2B");
    }

    #[test]
    fn target_parses_path_and_query() {
        let t = Target::parse("/package/foo%2Bbar?collection=f25,f26&name=a&name=b+c&flag");
        assert_eq!(t.segments, ["package", "foo+bar"]);
        assert_eq!(t.get("collection"), Some("f25,f26"));
        assert_eq!(t.all("name"), ["a", "b c"]);
        assert_eq!(t.get("flag"), Some(""));
        assert_eq!(t.get("missing"), None);
        assert_eq!(Target::parse("/").segments, Vec::<String>::new());
    }

    #[test]
    fn page_must_be_positive_number() {
        assert_eq!(Target::parse("/?page=3").page(), Ok(3));
        assert_eq!(Target::parse("/").page(), Ok(1));
        for bad in ["0", "-1", "x", "99999999999999999999"] {
            let err = Target::parse(&format!("/?page={bad}")).page().unwrap_err();
            assert_eq!(err.name, "page");
            assert_eq!(err.value, bad);
        }
    }

    #[test]
    fn order_keys_parse_with_direction_and_ignore_unknown() {
        use Direction::*;
        assert_eq!(
            parse_order(DEFAULT_ORDER),
            [
                (OrderKey::Running, Asc),
                (OrderKey::State, Asc),
                (OrderKey::Name, Asc)
            ]
        );
        assert_eq!(
            parse_order("-current_priority,bogus,;drop table,name,-name"),
            [(OrderKey::CurrentPriority, Desc), (OrderKey::Name, Asc)]
        );
        assert_eq!(parse_order(""), []);
        let colls = [(CollectionId(1), "f25"), (CollectionId(2), "epel7")];
        assert_eq!(
            parse_unified_order("-state-epel7,state-f99,failing", &colls),
            [
                (UnifiedOrderKey::State(CollectionId(2)), Desc),
                (UnifiedOrderKey::Failing, Asc)
            ]
        );
    }

    #[test]
    fn search_patterns_escape_like_metacharacters() {
        assert_eq!(like_pattern("foo"), "%foo%");
        assert_eq!(like_pattern("py*-six"), "%py%-six%");
        assert_eq!(like_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(like_pattern("  x "), "%x%");
    }
}
