//! Property tests of the query parsing: thousands of generated inputs per property from a
//! fixed-seed generator (so a failure reproduces; the case number is in the message), each
//! checked against a plain model of what the parser promises.

use koschei_core::db::web::{Direction, OrderKey, UnifiedOrderKey};
use koschei_core::model::CollectionId;

use super::*;

const CASES: u64 = 3000;

/// SplitMix64: small, fast, and good enough to spread test inputs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A string of up to `max` characters, mostly from the characters URLs make special.
    fn text(&mut self, max: usize) -> String {
        const SPECIAL: &[char] = &[
            '%', '+', ' ', '&', '=', '?', '/', '#', '*', '_', '\\', '-', '.', '~', ',', '\0', 'é',
            '€', '😀', '\u{fffd}', 'A', 'f', 'F', '0', '9', 'z',
        ];
        let n = self.below(max + 1);
        (0..n)
            .map(|_| {
                if self.chance(50) {
                    *self.pick(SPECIAL)
                } else if self.chance(90) {
                    char::from(b'a' + self.below(26) as u8)
                } else {
                    char::from_u32(self.below(0x11_0000) as u32).unwrap_or('x')
                }
            })
            .collect()
    }

    /// Raw request-target text: [`Rng::text`] plus well-formed and broken `%` escapes.
    fn raw(&mut self, max: usize) -> String {
        let mut s = String::new();
        while s.len() < max && !self.chance(15) {
            match self.below(4) {
                0 => s.push_str(&format!("%{:02X}", self.below(256))),
                1 => s.push_str(&format!("%{}", self.text(2))),
                _ => s.push_str(&self.text(4)),
            }
        }
        s
    }
}

/// Runs `check` on `CASES` generators seeded from `seed`, naming the failing case.
fn for_all(seed: u64, mut check: impl FnMut(&mut Rng, u64)) {
    for case in 0..CASES {
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(case));
        check(&mut rng, case);
    }
}

#[test]
fn encoding_then_decoding_gives_the_text_back() {
    for_all(1, |rng, case| {
        let s = rng.text(40);
        let encoded = percent_encode(&s);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)),
            "case {case}: {encoded:?}"
        );
        assert_eq!(percent_decode(&encoded, false), s, "case {case}");
        // `+` and spaces are encoded, so form decoding gives the same.
        assert_eq!(percent_decode(&encoded, true), s, "case {case}");
    });
}

#[test]
fn decoding_anything_is_total_and_keeps_plain_text() {
    for_all(2, |rng, case| {
        let raw = rng.raw(60);
        let decoded = percent_decode(&raw, true);
        // Without `%` and `+`, decoding is the identity.
        let plain: String = raw.chars().filter(|c| !matches!(c, '%' | '+')).collect();
        assert_eq!(percent_decode(&plain, true), plain, "case {case}");
        // Never longer than the input: an escape gives at most a replacement character.
        assert!(
            decoded.len() <= raw.len(),
            "case {case}: {raw:?} -> {decoded:?}"
        );
    });
}

#[test]
fn targets_built_from_parts_parse_back_into_them() {
    for_all(3, |rng, case| {
        let segments: Vec<String> = (0..rng.below(4))
            .map(|_| rng.text(8))
            .filter(|s| !s.is_empty())
            .collect();
        let query: Vec<(String, String)> = (0..rng.below(5))
            .map(|_| (rng.text(6), rng.text(10)))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        let mut url = String::new();
        for s in &segments {
            url.push('/');
            url.push_str(&percent_encode(s));
        }
        if url.is_empty() || rng.chance(30) {
            url.push('/');
        }
        if !query.is_empty() {
            let pairs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect();
            url.push('?');
            url.push_str(&pairs.join("&"));
        }
        let t = Target::parse(&url);
        assert_eq!(t.segments, segments, "case {case}: {url}");
        assert_eq!(t.query, query, "case {case}: {url}");
        assert!(t.raw_path.starts_with('/'), "case {case}");
        for (k, v) in &query {
            assert_eq!(
                t.get(k),
                query
                    .iter()
                    .find(|(k2, _)| k2 == k)
                    .map(|(_, v)| v.as_str()),
                "case {case}"
            );
            assert!(t.all(k).contains(&v.as_str()), "case {case}");
        }
    });
}

#[test]
fn parsing_any_target_is_total() {
    for_all(4, |rng, case| {
        let url = rng.raw(80);
        let t = Target::parse(&url);
        assert!(t.raw_path.starts_with('/'), "case {case}: {url:?}");
        assert!(t.segments.iter().all(|s| !s.is_empty()), "case {case}");
        // The list parameters either parse or are refused; never a panic.
        match t.page() {
            Ok(n) => assert!((1..=1_000_000).contains(&n), "case {case}: {n}"),
            Err(e) => {
                assert_eq!(e.name, "page");
                assert_eq!(Some(e.value.as_str()), t.get("page"), "case {case}");
            }
        }
        let _ = t.untracked();
        let _ = parse_order(t.get("order_by").unwrap_or_default());
        let _ = like_pattern(t.get("q").unwrap_or_default());
    });
}

#[test]
fn page_numbers_are_accepted_exactly_from_1_to_a_million() {
    for_all(5, |rng, case| {
        let value = match rng.below(4) {
            0 => rng.below(2_000_000).to_string(),
            1 => format!("-{}", rng.below(10)),
            2 => format!("{}{}", rng.below(100), rng.text(2)),
            _ => rng.text(6),
        };
        let t = Target::parse(&format!("/?page={}", percent_encode(&value)));
        let model = match value.parse::<i64>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Some(n),
            _ if value.is_empty() => Some(1),
            _ => None,
        };
        assert_eq!(t.page().ok(), model, "case {case}: {value:?}");
    });
}

const KEYS: &[&str] = &[
    "name",
    "state",
    "running",
    "task_id",
    "started",
    "current_priority",
    "failing",
    "bogus",
    "",
    "drop table",
    "state-f25",
    "state-epel7",
    "state-nope",
    "NAME",
];

/// A random `order_by` value from known and unknown keys, signs and spacing.
fn order_spec(rng: &mut Rng) -> String {
    (0..rng.below(7))
        .map(|_| {
            let sign = if rng.chance(40) { "-" } else { "" };
            let pad = if rng.chance(20) { " " } else { "" };
            format!("{pad}{sign}{}{pad}", rng.pick(KEYS))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The model of `order_by`: known keys in the order of their first mention, with the
/// direction of that mention.
fn model_order<K: PartialEq + Copy>(
    spec: &str,
    known: impl Fn(&str) -> Option<K>,
) -> Vec<(K, Direction)> {
    let mut out: Vec<(K, Direction)> = Vec::new();
    for item in spec.split(',') {
        let item = item.trim();
        let (name, dir) = match item.strip_prefix('-') {
            Some(n) => (n, Direction::Desc),
            None => (item, Direction::Asc),
        };
        if let Some(k) = known(name)
            && !out.iter().any(|(x, _)| *x == k)
        {
            out.push((k, dir));
        }
    }
    out
}

#[test]
fn order_keys_follow_the_model() {
    let colls = [(CollectionId(1), "f25"), (CollectionId(2), "epel7")];
    for_all(6, |rng, case| {
        let spec = order_spec(rng);
        let single = model_order(&spec, |n| match n {
            "name" => Some(OrderKey::Name),
            "state" => Some(OrderKey::State),
            "running" => Some(OrderKey::Running),
            "task_id" => Some(OrderKey::TaskId),
            "started" => Some(OrderKey::Started),
            "current_priority" => Some(OrderKey::CurrentPriority),
            _ => None,
        });
        assert_eq!(parse_order(&spec), single, "case {case}: {spec:?}");
        let unified = model_order(&spec, |n| match n {
            "name" => Some(UnifiedOrderKey::Name),
            "running" => Some(UnifiedOrderKey::Running),
            "failing" => Some(UnifiedOrderKey::Failing),
            "state-f25" => Some(UnifiedOrderKey::State(CollectionId(1))),
            "state-epel7" => Some(UnifiedOrderKey::State(CollectionId(2))),
            _ => None,
        });
        assert_eq!(
            parse_unified_order(&spec, &colls),
            unified,
            "case {case}: {spec:?}"
        );
    });
}

/// SQL `LIKE` with `\` as the escape character (case-sensitive; the query uses `ILIKE`).
fn like(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|i| like(rest, &text[i..])),
        Some(('_', rest)) => !text.is_empty() && like(rest, &text[1..]),
        Some(('\\', rest)) => match rest.split_first() {
            Some((c, rest)) => text.first() == Some(c) && like(rest, &text[1..]),
            None => false,
        },
        Some((c, rest)) => text.first() == Some(c) && like(rest, &text[1..]),
    }
}

/// The model of a search: the parts between `*` appear in the name in order.
fn search_model(query: &str, name: &str) -> bool {
    let mut rest = name;
    for part in query.trim().split('*') {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn search_patterns_match_what_the_model_matches() {
    const ALPHABET: &[char] = &['a', 'b', '%', '_', '\\', '*', ' '];
    let word = |rng: &mut Rng, max: usize| -> String {
        (0..rng.below(max + 1))
            .map(|_| *rng.pick(ALPHABET))
            .collect()
    };
    for_all(7, |rng, case| {
        let query = word(rng, 5);
        let name = if rng.chance(50) {
            format!(
                "{}{}{}",
                word(rng, 3),
                query.trim().replace('*', "b"),
                word(rng, 3)
            )
        } else {
            word(rng, 8)
        };
        let pattern: Vec<char> = like_pattern(&query).chars().collect();
        let text: Vec<char> = name.chars().collect();
        assert_eq!(
            like(&pattern, &text),
            search_model(&query, &name),
            "case {case}: query {query:?}, name {name:?}, pattern {}",
            pattern.iter().collect::<String>()
        );
    });
}

#[test]
fn cache_keys_ignore_unknown_parameters_and_are_stable() {
    for_all(8, |rng, case| {
        let path = format!("/{}", percent_encode(&rng.text(6)));
        let mut pairs: Vec<(String, String)> = Vec::new();
        for _ in 0..rng.below(6) {
            let k = if rng.chance(60) {
                (*rng.pick(KNOWN_PARAMS)).to_owned()
            } else {
                format!("x{}", rng.text(4))
            };
            pairs.push((k, rng.text(8)));
        }
        let url = |pairs: &[(String, String)]| {
            let q: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect();
            if q.is_empty() {
                path.clone()
            } else {
                format!("{path}?{}", q.join("&"))
            }
        };
        let t = Target::parse(&url(&pairs));
        let key = cache_key(&t);
        // Dropping every unknown parameter, or adding junk, keeps the key.
        let known: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| KNOWN_PARAMS.contains(&k.as_str()))
            .cloned()
            .collect();
        assert_eq!(cache_key(&Target::parse(&url(&known))), key, "case {case}");
        let mut junk = pairs.clone();
        junk.insert(rng.below(junk.len() + 1), ("junk".into(), rng.text(30)));
        assert_eq!(cache_key(&Target::parse(&url(&junk))), key, "case {case}");
        // The key is a target of its own with the same known parameters.
        let again = Target::parse(&key);
        assert_eq!(cache_key(&again), key, "case {case}");
        for k in KNOWN_PARAMS {
            assert_eq!(again.all(k), t.all(k), "case {case}: {k}");
        }
        assert_eq!(again.segments, t.segments, "case {case}");
    });
}

#[test]
fn every_parameter_a_route_reads_is_in_the_cache_key() {
    // The routes read parameters as `t.get("…")` / `t.all("…")`, and the EVR bounds of
    // affected-by as `epoch{n}`, `version{n}`, `release{n}`.
    let source = include_str!("../routes.rs");
    let mut read: Vec<String> = Vec::new();
    for call in ["t.get(\"", "t.all(\""] {
        for (i, _) in source.match_indices(call) {
            let rest = &source[i + call.len()..];
            if let Some(end) = rest.find('"') {
                read.push(rest[..end].to_owned());
            }
        }
    }
    for n in ["1", "2"] {
        for p in ["epoch", "version", "release"] {
            read.push(format!("{p}{n}"));
        }
    }
    read.push("page".into());
    read.push("untracked".into());
    assert!(read.len() > 10, "{read:?}");
    for p in &read {
        assert!(
            KNOWN_PARAMS.contains(&p.as_str()),
            "`{p}` is read but not in KNOWN_PARAMS"
        );
    }
}
