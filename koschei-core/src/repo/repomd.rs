//! `repodata/repomd.xml` parsing and checksum checks (pure: no I/O).

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use sha1::Digest as _;

/// A checksum algorithm of rpm-md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChecksumKind {
    /// `sha` / `sha1`.
    Sha1,
    /// `sha224`.
    Sha224,
    /// `sha256`.
    Sha256,
    /// `sha384`.
    Sha384,
    /// `sha512`.
    Sha512,
}

impl ChecksumKind {
    /// The name repomd.xml uses (`sha1`, `sha256`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumKind::Sha1 => "sha1",
            ChecksumKind::Sha224 => "sha224",
            ChecksumKind::Sha256 => "sha256",
            ChecksumKind::Sha384 => "sha384",
            ChecksumKind::Sha512 => "sha512",
        }
    }

    /// Parses the `type` attribute of a `<checksum>`.
    pub fn from_name(name: &str) -> Option<ChecksumKind> {
        Some(match name {
            "sha" | "sha1" => ChecksumKind::Sha1,
            "sha224" => ChecksumKind::Sha224,
            "sha256" => ChecksumKind::Sha256,
            "sha384" => ChecksumKind::Sha384,
            "sha512" => ChecksumKind::Sha512,
            _ => return None,
        })
    }
}

/// A checksum: algorithm and lowercase hex digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// Algorithm.
    pub kind: ChecksumKind,
    /// Lowercase hex digest.
    pub hex: String,
}

/// An incremental checksum computation.
#[derive(Debug)]
pub enum Hasher {
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-224.
    Sha224(sha2::Sha224),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(sha2::Sha384),
    /// SHA-512.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher of the given kind.
    pub fn new(kind: ChecksumKind) -> Hasher {
        match kind {
            ChecksumKind::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            ChecksumKind::Sha224 => Hasher::Sha224(sha2::Sha224::new()),
            ChecksumKind::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            ChecksumKind::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            ChecksumKind::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha224(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha384(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The lowercase hex digest.
    pub fn finish(self) -> String {
        match self {
            Hasher::Sha1(h) => hex::encode(h.finalize()),
            Hasher::Sha224(h) => hex::encode(h.finalize()),
            Hasher::Sha256(h) => hex::encode(h.finalize()),
            Hasher::Sha384(h) => hex::encode(h.finalize()),
            Hasher::Sha512(h) => hex::encode(h.finalize()),
        }
    }
}

impl Checksum {
    /// Whether `bytes` have this checksum.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let mut h = Hasher::new(self.kind);
        h.update(bytes);
        h.finish() == self.hex
    }
}

/// One `<data>` record of repomd.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `type` attribute: `primary`, `filelists`, `group`, `group_gz`, ...
    pub kind: String,
    /// `location href`, relative to the repo root (e.g. `repodata/abc-primary.xml.gz`).
    pub href: String,
    /// Checksum of the file as stored.
    pub checksum: Checksum,
    /// Size of the file as stored, if given.
    pub size: Option<u64>,
}

/// A parsed repomd.xml.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoMd {
    /// `<revision>`, if present.
    pub revision: Option<String>,
    /// The `<data>` records in file order.
    pub records: Vec<Record>,
}

impl RepoMd {
    /// The record of a given type.
    pub fn record(&self, kind: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.kind == kind)
    }
}

/// Why repomd.xml could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not well-formed XML.
    #[error("malformed repomd.xml at byte {position}: {message}")]
    Xml {
        /// Byte offset.
        position: u64,
        /// What was wrong.
        message: String,
    },
    /// A `<data>` record lacks something or has an unusable value.
    #[error("repomd.xml record `{kind}`: {message}")]
    Record {
        /// The record's type.
        kind: String,
        /// What was wrong.
        message: String,
    },
    /// No `<repomd>` root.
    #[error("not a repomd.xml document (no <repomd> root)")]
    NotRepoMd,
}

#[derive(Default)]
struct Partial {
    kind: String,
    href: Option<String>,
    checksum: Option<(String, String)>,
    size: Option<String>,
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The text of a character or entity reference in element text (`&#48;`, `&amp;`): the five
/// XML entities and character references; anything else is an error naming it. Shared by
/// the rpm-md readers (koschei-solver's `primary.xml` reader uses it too).
pub fn xml_reference(r: &BytesRef<'_>) -> Result<String, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(|e| e.to_string())?;
    Ok(match name.as_ref() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "quot" => "\"",
        "apos" => "'",
        other => return Err(format!("unknown entity `&{other};`")),
    }
    .to_owned())
}

/// Parses repomd.xml. A document that ends before its elements are closed (a truncated
/// download) is an [`Error::Xml`].
pub fn parse(bytes: &[u8]) -> Result<RepoMd, Error> {
    let mut reader = Reader::from_reader(bytes);
    let mut md = RepoMd::default();
    let mut seen_root = false;
    // Elements open at the current position.
    let mut depth: usize = 0;
    let mut cur: Option<Partial> = None;
    // The element whose text is being read.
    let mut text_of: Option<Vec<u8>> = None;
    let mut text = String::new();
    let xml_err = |r: &Reader<&[u8]>, e: &dyn std::fmt::Display| Error::Xml {
        position: r.error_position(),
        message: e.to_string(),
    };
    loop {
        let ev = reader.read_event().map_err(|e| xml_err(&reader, &e))?;
        if matches!(ev, Event::Start(_)) {
            depth += 1;
        }
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_vec();
                match name.as_slice() {
                    b"repomd" => seen_root = true,
                    b"data" => {
                        cur = Some(Partial {
                            kind: attr(&e, b"type").unwrap_or_default(),
                            ..Partial::default()
                        });
                    }
                    b"location" => {
                        if let Some(p) = cur.as_mut() {
                            p.href = attr(&e, b"href");
                        }
                    }
                    b"checksum" if cur.is_some() => {
                        text_of = Some(name.clone());
                        text.clear();
                        if let Some(p) = cur.as_mut() {
                            p.checksum =
                                Some((attr(&e, b"type").unwrap_or_default(), String::new()));
                        }
                    }
                    b"size" | b"revision" => {
                        text_of = Some(name.clone());
                        text.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) if text_of.is_some() => {
                let s = t.xml10_content().map_err(|e| xml_err(&reader, &e))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) if text_of.is_some() => {
                text.push_str(&xml_reference(&r).map_err(|e| xml_err(&reader, &e))?);
            }
            Event::GeneralRef(_) | Event::CData(_) => {}
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.local_name().as_ref().to_vec();
                if text_of.as_deref() == Some(name.as_slice()) {
                    text_of = None;
                    let value = text.trim().to_owned();
                    match name.as_slice() {
                        b"revision" if cur.is_none() => md.revision = Some(value),
                        b"checksum" => {
                            if let Some((_, hex)) = cur.as_mut().and_then(|p| p.checksum.as_mut()) {
                                *hex = value;
                            }
                        }
                        b"size" => {
                            if let Some(p) = cur.as_mut() {
                                p.size = Some(value);
                            }
                        }
                        _ => {}
                    }
                }
                if name == b"data"
                    && let Some(p) = cur.take()
                {
                    md.records.push(finish(p)?);
                }
            }
            Event::Eof => {
                if cur.is_some() {
                    return Err(Error::Xml {
                        position: reader.buffer_position(),
                        message: "unexpected end of input inside <data>".into(),
                    });
                }
                if depth > 0 {
                    return Err(Error::Xml {
                        position: reader.buffer_position(),
                        message: "unexpected end of input: unclosed elements (truncated file?)"
                            .into(),
                    });
                }
                break;
            }
            _ => {}
        }
    }
    if !seen_root {
        return Err(Error::NotRepoMd);
    }
    Ok(md)
}

fn finish(p: Partial) -> Result<Record, Error> {
    let err = |message: String| Error::Record {
        kind: p.kind.clone(),
        message,
    };
    let href = p
        .href
        .clone()
        .ok_or_else(|| err("no <location href>".into()))?;
    if href.starts_with('/') || href.split('/').any(|c| c == "..") || href.contains("://") {
        return Err(err(format!("location `{href}` leaves the repository")));
    }
    let (kind, hex) = p
        .checksum
        .clone()
        .ok_or_else(|| err("no <checksum>".into()))?;
    let ck = ChecksumKind::from_name(&kind)
        .ok_or_else(|| err(format!("unsupported checksum type `{kind}`")))?;
    let hex = hex.to_ascii_lowercase();
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err(format!("checksum `{hex}` is not hex")));
    }
    let size = match &p.size {
        None => None,
        Some(s) => Some(
            s.parse()
                .map_err(|_| err(format!("size `{s}` is not a number")))?,
        ),
    };
    Ok(Record {
        kind: p.kind,
        href,
        checksum: Checksum { kind: ck, hex },
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1795528015</revision>
  <data type="primary">
    <checksum type="sha256">2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824</checksum>
    <open-checksum type="sha256">aaaa</open-checksum>
    <location href="repodata/abc-primary.xml.gz"/>
    <timestamp>1795528015</timestamp>
    <size>5</size>
    <open-size>100</open-size>
  </data>
  <data type="group">
    <checksum type="sha">aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d</checksum>
    <location href="repodata/comps.xml"/>
  </data>
</repomd>
"#;

    #[test]
    fn parses_records() {
        let md = parse(SAMPLE.as_bytes()).expect("valid");
        assert_eq!(md.revision.as_deref(), Some("1795528015"));
        let p = md.record("primary").expect("primary");
        assert_eq!(p.href, "repodata/abc-primary.xml.gz");
        assert_eq!(p.size, Some(5));
        assert_eq!(p.checksum.kind, ChecksumKind::Sha256);
        assert!(p.checksum.matches(b"hello"));
        assert!(!p.checksum.matches(b"hellO"));
        let g = md.record("group").expect("group");
        assert_eq!(g.checksum.kind, ChecksumKind::Sha1);
        assert!(g.checksum.matches(b"hello"));
        assert_eq!(g.size, None);
    }

    #[test]
    fn bad_documents_are_errors() {
        let cases = [
            ("<foo/>", "no <repomd>"),
            (
                "<repomd><data type='primary'><location href='a'/></data></repomd>",
                "no <checksum>",
            ),
            (
                "<repomd><data type='primary'><checksum type='md5'>aa</checksum><location href='a'/></data></repomd>",
                "unsupported",
            ),
            (
                "<repomd><data type='primary'><checksum type='sha256'>zz</checksum><location href='a'/></data></repomd>",
                "not hex",
            ),
            (
                "<repomd><data type='primary'><checksum type='sha256'>aa</checksum><location href='../../etc/passwd'/></data></repomd>",
                "leaves",
            ),
            (
                "<repomd><data type='primary'><checksum type='sha256'>aa</checksum><location href='a'/><size>x</size></data></repomd>",
                "not a number",
            ),
            ("<repomd><data>", "malformed"),
        ];
        for (xml, want) in cases {
            let e = parse(xml.as_bytes()).expect_err(xml);
            let msg = e.to_string();
            assert!(
                msg.contains(want)
                    || (want == "malformed" && matches!(e, Error::Xml { .. })
                        || want == "no <repomd>" && e == Error::NotRepoMd),
                "{xml}: {msg}"
            );
        }
    }
}
