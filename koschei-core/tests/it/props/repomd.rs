//! `repo::repomd::parse`: generated documents give back their model, strict prefixes are
//! errors, damaged bytes never panic and never yield a record that leaves the repository.

use koschei_core::repo::repomd::{self, Checksum, ChecksumKind, Error, Record, RepoMd};

use koschei_fakehub::rng::{Rng, for_all, xml_escape};

const CASES: u64 = 2000;

/// XML text for `s`: escaped, with some characters as numeric references.
fn escaped(rng: &mut Rng, s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if rng.chance(10) {
            out.push_str(&if rng.chance(50) {
                format!("&#{};", u32::from(c))
            } else {
                format!("&#x{:X};", u32::from(c))
            });
        } else {
            out.push_str(&xml_escape(&c.to_string()));
        }
    }
    out
}

/// Blank space between elements.
fn space(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(&["", "\n", "\n  ", " ", "\t", "\r\n    "])
}

/// A record the parser must accept: a relative href inside the repository.
fn record(rng: &mut Rng) -> Record {
    let kind = if rng.chance(80) {
        (*rng.pick(&[
            "primary",
            "filelists",
            "other",
            "group",
            "group_gz",
            "updateinfo",
            "primary_db",
            "modules",
        ]))
        .to_owned()
    } else {
        rng.text(12)
    };
    let (ck, len) = *rng.pick(&[
        (ChecksumKind::Sha1, 40),
        (ChecksumKind::Sha224, 56),
        (ChecksumKind::Sha256, 64),
        (ChecksumKind::Sha384, 96),
        (ChecksumKind::Sha512, 128),
    ]);
    let mut href = String::from("repodata/");
    if rng.chance(20) {
        href.push_str(&rng.word(5));
        href.push('/');
    }
    href.push_str(&rng.hex(8).to_ascii_lowercase());
    href.push('-');
    // Names with XML specials, spaces and dots, never a `..` component.
    href.push_str(&rng.text(10).replace(['/', ':'], "_").replace("..", "._"));
    href.push_str(rng.pick::<&str>(&[".xml", ".xml.gz", ".xml.zst", ".sqlite.bz2", ""]));
    Record {
        kind,
        href,
        checksum: Checksum {
            kind: ck,
            hex: rng.hex(len).to_ascii_lowercase(),
        },
        size: rng.chance(70).then(|| rng.next() >> rng.below(64)),
    }
}

fn model(rng: &mut Rng) -> RepoMd {
    RepoMd {
        revision: rng.chance(80).then(|| {
            if rng.chance(70) {
                (rng.next() % 2_000_000_000).to_string()
            } else {
                // Trimmed by the parser, so never blank at the ends.
                format!("r{}x", rng.text(12))
            }
        }),
        records: (0..rng.below(6)).map(|_| record(rng)).collect(),
    }
}

/// repomd.xml for `md`, in one of the layouts createrepo_c and Koji write (element order,
/// extra elements, namespaces, checksum case and `sha` for SHA-1 vary).
fn render(rng: &mut Rng, md: &RepoMd) -> String {
    let mut s = String::new();
    if rng.chance(80) {
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    if rng.chance(20) {
        s.push_str("<!-- generated -->\n");
    }
    s.push_str("<repomd xmlns=\"http://linux.duke.edu/metadata/repo\"");
    if rng.chance(50) {
        s.push_str(" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\"");
    }
    s.push('>');
    if let Some(r) = &md.revision {
        s.push_str(space(rng));
        let r = escaped(rng, r);
        s.push_str(&format!(
            "<revision>{}{r}{}</revision>",
            space(rng),
            space(rng)
        ));
    }
    if rng.chance(30) {
        s.push_str(&format!(
            "{}<tags><content>binary-x86_64</content></tags>",
            space(rng)
        ));
    }
    for rec in &md.records {
        s.push_str(space(rng));
        let q = if rng.chance(50) { '"' } else { '\'' };
        s.push_str(&format!("<data type={q}{}{q}>", escaped(rng, &rec.kind)));
        let name = match rec.checksum.kind {
            ChecksumKind::Sha1 if rng.chance(50) => "sha",
            k => k.as_str(),
        };
        let hex = if rng.chance(30) {
            rec.checksum.hex.to_ascii_uppercase()
        } else {
            rec.checksum.hex.clone()
        };
        let mut parts = vec![
            format!(
                "<checksum type=\"{name}\">{}{hex}{}</checksum>",
                space(rng),
                space(rng)
            ),
            format!(
                "<open-checksum type=\"sha256\">{}</open-checksum>",
                rng.hex(64)
            ),
            format!("<location href=\"{}\"/>", escaped(rng, &rec.href)),
            format!("<timestamp>{}</timestamp>", rng.next() % 2_000_000_000),
        ];
        if let Some(size) = rec.size {
            parts.push(format!("<size>{size}</size>"));
        }
        if rng.chance(50) {
            parts.push(format!("<open-size>{}</open-size>", rng.next() % 100_000));
        }
        if rng.chance(20) {
            parts.push("<database_version>10</database_version>".to_owned());
        }
        // Any order: the parser must not depend on createrepo_c's.
        for i in (1..parts.len()).rev() {
            let j = rng.below(i + 1);
            parts.swap(i, j);
        }
        for p in parts {
            s.push_str(space(rng));
            s.push_str(&p);
        }
        s.push_str(space(rng));
        s.push_str("</data>");
    }
    s.push_str(space(rng));
    s.push_str("</repomd>");
    s.push_str(space(rng));
    s
}

#[test]
fn generated_documents_parse_to_their_model() {
    for_all(11, CASES, |rng, case| {
        let md = model(rng);
        let xml = render(rng, &md);
        match repomd::parse(xml.as_bytes()) {
            Ok(got) => assert_eq!(got, md, "case {case}:\n{xml}"),
            Err(e) => panic!("case {case}: {e}\n{xml}"),
        }
    });
}

#[test]
fn every_truncation_before_the_end_is_an_error() {
    for_all(12, CASES / 4, |rng, case| {
        let md = model(rng);
        let xml = render(rng, &md);
        let end = xml.rfind("</repomd>").expect("closing tag") + "</repomd>".len();
        for _ in 0..8 {
            let cut = rng.below(end);
            let prefix = &xml.as_bytes()[..cut];
            let result = repomd::parse(prefix);
            assert!(
                result.is_err(),
                "case {case}: a truncation at byte {cut} of {end} parsed as {result:?}:\n{}",
                String::from_utf8_lossy(prefix)
            );
        }
    });
}

#[test]
fn damaged_documents_never_panic_and_never_leave_the_repository() {
    for_all(13, CASES, |rng, case| {
        let md = model(rng);
        let xml = render(rng, &md);
        let bytes = rng.mutate(xml.as_bytes());
        match repomd::parse(&bytes) {
            Ok(got) => {
                for r in &got.records {
                    assert!(
                        !r.href.starts_with('/')
                            && !r.href.split('/').any(|c| c == "..")
                            && !r.href.contains("://"),
                        "case {case}: {r:?}"
                    );
                    assert!(
                        !r.checksum.hex.is_empty()
                            && r.checksum
                                .hex
                                .bytes()
                                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                        "case {case}: {r:?}"
                    );
                }
            }
            Err(e) => {
                assert!(!e.to_string().is_empty(), "case {case}");
                if let Error::Xml { position, .. } = e {
                    assert!(position <= bytes.len() as u64, "case {case}: {position}");
                }
            }
        }
    });
}

#[test]
fn arbitrary_bytes_never_panic() {
    for_all(14, CASES, |rng, case| {
        let n = rng.below(200);
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                if rng.chance(50) {
                    *rng.pick(b"<>/=\"'&;#x!?[]- repomdatchecksumlocationhref")
                } else {
                    (rng.next() & 0xff) as u8
                }
            })
            .collect();
        if let Err(e) = repomd::parse(&bytes) {
            assert!(!e.to_string().is_empty(), "case {case}");
        }
    });
}
