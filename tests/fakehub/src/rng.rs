//! The inputs' generator of the property tests: SplitMix64 with a fixed seed per property
//! (so every run checks the same cases and a failure names its case), plus the byte
//! mutations the parser properties use. Shared by koschei-core's and koschei-solver's tests.

/// SplitMix64: small, fast, and good enough to spread test inputs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    #[allow(
        clippy::should_implement_trait,
        reason = "an endless generator, not an iterator"
    )]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An identifier-like word of 1 to `max` characters (`[a-z][a-z0-9_-]*`).
    pub fn word(&mut self, max: usize) -> String {
        let n = 1 + self.below(max.max(1));
        (0..n)
            .map(|i| {
                let set: &[u8] = if i == 0 {
                    b"abcdefghijklmnopqrstuvwxyz"
                } else {
                    b"abcdefghijklmnopqrstuvwxyz0123456789_-"
                };
                char::from(*self.pick(set))
            })
            .collect()
    }

    /// Up to `max` characters, many of them special to XML or TOML, some outside ASCII.
    pub fn text(&mut self, max: usize) -> String {
        const SPECIAL: &[char] = &[
            '&', '<', '>', '"', '\'', ' ', '.', '-', '+', '~', '^', ':', '/', '=', '#', '[', ']',
            '\\', 'é', '€', '😀', '_',
        ];
        let n = self.below(max + 1);
        (0..n)
            .map(|_| {
                if self.chance(30) {
                    *self.pick(SPECIAL)
                } else {
                    char::from(*self.pick(b"abcdefghijklmnopqrstuvwxyzABC0123456789"))
                }
            })
            .collect()
    }

    /// `len` hex digits in random case.
    pub fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(*self.pick(b"0123456789abcdefABCDEF")))
            .collect()
    }

    /// `bytes` damaged by one to four random edits: a flipped byte, a deleted, duplicated or
    /// inserted stretch, or a cut.
    pub fn mutate(&mut self, bytes: &[u8]) -> Vec<u8> {
        const NOISE: &[&[u8]] = &[
            b"<",
            b">",
            b"&",
            b"&amp;",
            b"&#0;",
            b"&#x110000;",
            b"&bogus;",
            b"\"",
            b"'",
            b"/>",
            b"</",
            b"<![CDATA[",
            b"]]>",
            b"<!--",
            b"-->",
            b"<?",
            b"?>",
            b"\0",
            b"\xff\xfe",
            b"\xc3",
            b"=",
            b"[",
            b"]",
            b"\n",
            b"\"\"\"",
            b"'''",
            b"{",
            b"}",
            b",",
            b".",
        ];
        let mut out = bytes.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(5) {
                0 if !out.is_empty() => {
                    let i = at.min(out.len() - 1);
                    out[i] ^= 1 << self.below(8);
                }
                1 => {
                    let end = (at + 1 + self.below(16)).min(out.len());
                    out.drain(at..end);
                }
                2 => {
                    let end = (at + 1 + self.below(32)).min(out.len());
                    let copy = out[at..end].to_vec();
                    let to = self.below(out.len() + 1);
                    out.splice(to..to, copy);
                }
                3 => {
                    let noise = self.pick(NOISE).to_vec();
                    out.splice(at..at, noise);
                }
                _ => out.truncate(at),
            }
        }
        out
    }
}

/// Runs `check` on `cases` generators seeded from `seed`, naming the failing case.
pub fn for_all(seed: u64, cases: u64, mut check: impl FnMut(&mut Rng, u64)) {
    for case in 0..cases {
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(case));
        check(&mut rng, case);
    }
}

/// `s` escaped for XML text and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
