//! Pure parsers for the rpm-md files read in Rust besides `repomd.xml` (which is
//! koschei-core's `repo::repomd`): comps and the `primary` of a source repository.
//!
//! No I/O happens here: callers pass bytes and get plain values or a message
//! saying what is wrong (the caller adds which file).

use koschei_core::repo::repomd::xml_reference;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// A source package read from a `src` repository's `primary`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourcePackage {
    /// Package name.
    pub name: String,
    /// Epoch (0 when absent).
    pub epoch: u64,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// The BuildRequires, as Koschei builds them from Koji: `name`,
    /// `name OP [E:]V[-R]` (epoch 0 omitted) or a rich dependency `(...)`.
    pub build_requires: Vec<String>,
}

impl SourcePackage {
    /// `E:V-R` with the epoch always written.
    pub fn evr(&self) -> String {
        format!("{}:{}-{}", self.epoch, self.version, self.release)
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, String> {
    match e.try_get_attribute(name) {
        Ok(Some(a)) => a
            .unescape_value()
            .map(|v| Some(v.into_owned()))
            .map_err(|err| err.to_string()),
        Ok(None) => Ok(None),
        Err(err) => Err(err.to_string()),
    }
}

fn position_err(reader: &Reader<&[u8]>, err: impl std::fmt::Display) -> String {
    format!("malformed XML at byte {}: {err}", reader.buffer_position())
}

/// The packages of comps group `group_id` whose type is `mandatory` or
/// `default` (type `mandatory` when absent), in file order; `None` when the
/// group does not exist.
pub(crate) fn parse_comps_group(xml: &[u8], group_id: &str) -> Result<Option<Vec<String>>, String> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut in_group = false;
    let mut group_matches = false;
    let mut req_type_ok = false;
    let mut members = Vec::new();
    let mut found: Option<Vec<String>> = None;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| position_err(&reader, e))?;
        match ev {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                text.clear();
                if name == b"group" && stack.last().map(Vec::as_slice) == Some(b"comps") {
                    in_group = true;
                    group_matches = false;
                    members.clear();
                }
                if name == b"packagereq" {
                    let t = attr(&e, b"type")?.unwrap_or_else(|| "mandatory".to_owned());
                    req_type_ok = t == "mandatory" || t == "default";
                }
                stack.push(name);
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| position_err(&reader, e))?),
            Event::GeneralRef(r) => text.push_str(&xml_reference(&r)?),
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let parent = stack.last().map(Vec::as_slice);
                match name.as_slice() {
                    b"id" if in_group && parent == Some(b"group") => {
                        group_matches = text.trim() == group_id;
                    }
                    b"packagereq" if in_group && req_type_ok => {
                        members.push(text.trim().to_owned())
                    }
                    b"group" if in_group => {
                        in_group = false;
                        if group_matches && found.is_none() {
                            found = Some(std::mem::take(&mut members));
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("truncated XML: unclosed elements at end of file".to_owned());
    }
    Ok(found)
}

fn flag_op(flags: &str) -> Option<&'static str> {
    Some(match flags {
        "LT" => "<",
        "LE" => "<=",
        "EQ" => "=",
        "GE" => ">=",
        "GT" => ">",
        _ => return None,
    })
}

/// The dependency string Koschei builds from a requires entry.
fn dep_string(e: &BytesStart<'_>) -> Result<String, String> {
    let name = attr(e, b"name")?.ok_or("`<rpm:entry>` without `name`")?;
    let Some(flags) = attr(e, b"flags")? else {
        return Ok(name);
    };
    let op = flag_op(&flags).ok_or_else(|| format!("unknown flags `{flags}` on `{name}`"))?;
    let mut evr = String::new();
    if let Some(epoch) = attr(e, b"epoch")?
        && epoch != "0"
        && !epoch.is_empty()
    {
        evr.push_str(&epoch);
        evr.push(':');
    }
    evr.push_str(&attr(e, b"ver")?.unwrap_or_default());
    if let Some(rel) = attr(e, b"rel")? {
        evr.push('-');
        evr.push_str(&rel);
    }
    Ok(format!("{name} {op} {evr}"))
}

/// Parses the `primary` of a source repository: every package with its
/// `requires` as BuildRequires strings, in file order. A file without a
/// `<metadata>` root (empty, or cut before it) or with unclosed elements
/// (truncated) is an error.
pub(crate) fn parse_source_primary(xml: &[u8]) -> Result<Vec<SourcePackage>, String> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut out = Vec::new();
    let mut cur: Option<SourcePackage> = None;
    let mut seen_root = false;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| position_err(&reader, e))?;
        let (start, is_empty) = match &ev {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = e.local_name().as_ref().to_vec();
            text.clear();
            if stack.is_empty() && name == b"metadata" {
                seen_root = true;
            }
            let in_requires = stack.last().map(Vec::as_slice) == Some(b"requires");
            match name.as_slice() {
                b"package" => {
                    cur = Some(SourcePackage {
                        name: String::new(),
                        epoch: 0,
                        version: String::new(),
                        release: String::new(),
                        build_requires: Vec::new(),
                    });
                }
                b"version"
                    if cur.is_some() && stack.last().map(Vec::as_slice) == Some(b"package") =>
                {
                    if let Some(p) = cur.as_mut() {
                        let epoch = attr(&e, b"epoch")?.unwrap_or_default();
                        p.epoch = if epoch.is_empty() {
                            0
                        } else {
                            epoch
                                .parse()
                                .map_err(|_| format!("invalid epoch `{epoch}`"))?
                        };
                        p.version = attr(&e, b"ver")?.unwrap_or_default();
                        p.release = attr(&e, b"rel")?.unwrap_or_default();
                    }
                }
                b"entry" if in_requires => {
                    let dep = dep_string(&e)?;
                    if let Some(p) = cur.as_mut() {
                        p.build_requires.push(dep);
                    }
                }
                _ => {}
            }
            if !is_empty {
                stack.push(name);
            }
        } else {
            match ev {
                Event::Text(t) => text.push_str(&t.decode().map_err(|e| position_err(&reader, e))?),
                Event::GeneralRef(r) => text.push_str(&xml_reference(&r)?),
                Event::End(_) => {
                    let name = stack.pop().unwrap_or_default();
                    match name.as_slice() {
                        b"name" if stack.last().map(Vec::as_slice) == Some(b"package") => {
                            if let Some(p) = cur.as_mut() {
                                p.name = text.trim().to_owned();
                            }
                        }
                        b"package" => {
                            if let Some(p) = cur.take() {
                                if p.name.is_empty() {
                                    return Err("`<package>` without `<name>`".to_owned());
                                }
                                out.push(p);
                            }
                        }
                        _ => {}
                    }
                    text.clear();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("truncated XML: unclosed elements at end of file".to_owned());
    }
    if !seen_root {
        return Err("no `<metadata>` root element (empty or truncated file?)".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comps_group_takes_mandatory_and_default() {
        let xml = br#"<comps><group><id>other</id><packagelist><packagereq>x</packagereq></packagelist></group>
<group><id>build</id><packagelist>
<packagereq type="mandatory">bash</packagereq><packagereq type="default">g&#43;&#43;</packagereq>
<packagereq type="optional">vim</packagereq><packagereq>make</packagereq>
</packagelist></group></comps>"#;
        let g = parse_comps_group(xml, "build")
            .expect("parses")
            .expect("group exists");
        assert_eq!(g, ["bash", "g++", "make"]);
        assert_eq!(parse_comps_group(xml, "nope").expect("parses"), None);
    }

    #[test]
    fn truncated_comps_is_an_error() {
        assert!(parse_comps_group(b"<comps><group><id>build</id>", "build").is_err());
    }

    #[test]
    fn source_requires_become_dependency_strings() {
        let xml = br#"<metadata xmlns:rpm="r"><package type="rpm"><name>foo</name><arch>src</arch>
<version epoch="0" ver="1.0" rel="2"/><format><rpm:requires>
<rpm:entry name="a"/><rpm:entry name="b" flags="GE" epoch="0" ver="11"/>
<rpm:entry name="c" flags="LT" epoch="2" ver="1" rel="3"/><rpm:entry name="(d or e)"/>
</rpm:requires></format></package>
<package type="rpm"><name>bar</name><version epoch="3" ver="1" rel="1"/></package></metadata>"#;
        let p = parse_source_primary(xml).expect("parses");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "foo");
        assert_eq!(p[0].evr(), "0:1.0-2");
        assert_eq!(
            p[0].build_requires,
            ["a", "b >= 11", "c < 2:1-3", "(d or e)"]
        );
        assert_eq!(p[1].evr(), "3:1-1");
        assert!(p[1].build_requires.is_empty());
    }
}
