//! Writes small rpm-md repositories (repomd.xml, primary, filelists, comps) from package lists.
//!
//! The fake hub serves these under its topurl, the demo generates its tag with them, and
//! tests build scenarios with them. Checksums are real sha256 values, so the output loads
//! in libsolv, hawkey and dnf like a repository createrepo_c made.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// A dependency entry: `name`, or `name OP [E:]V[-R]` with OP one of `<`, `<=`, `=`, `>=`, `>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// Dependency name (or a rich dependency in parentheses, unversioned).
    pub name: String,
    /// The comparison and EVR, if versioned.
    pub version: Option<(String, String)>,
}

impl Dep {
    /// Parses `name` or `name OP evr`.
    pub fn parse(s: &str) -> Dep {
        let s = s.trim();
        if !s.starts_with('(') {
            let parts: Vec<&str> = s.split_whitespace().collect();
            if let [name, op, evr] = parts[..] {
                return Dep {
                    name: name.to_owned(),
                    version: Some((op.to_owned(), evr.to_owned())),
                };
            }
        }
        Dep {
            name: s.to_owned(),
            version: None,
        }
    }
}

/// One package of a repository.
#[derive(Debug, Clone)]
pub struct Package {
    /// Name.
    pub name: String,
    /// Epoch (0 when none).
    pub epoch: u32,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Arch: `x86_64`, `noarch`, or `src` for source packages.
    pub arch: String,
    /// Provides besides the automatic `name = EVR`.
    pub provides: Vec<Dep>,
    /// Requires (BuildRequires for `src` packages).
    pub requires: Vec<Dep>,
    /// Conflicts.
    pub conflicts: Vec<Dep>,
    /// Files (listed in filelists, and in primary when under `/usr/bin` or `/etc`).
    pub files: Vec<String>,
}

impl Package {
    /// A package with no dependencies.
    pub fn new(name: &str, evr: &str, arch: &str) -> Package {
        let (epoch, rest) = match evr.split_once(':') {
            Some((e, rest)) => (e.parse().unwrap_or(0), rest),
            None => (0, evr),
        };
        let (version, release) = rest.rsplit_once('-').unwrap_or((rest, "1"));
        Package {
            name: name.to_owned(),
            epoch,
            version: version.to_owned(),
            release: release.to_owned(),
            arch: arch.to_owned(),
            provides: Vec::new(),
            requires: Vec::new(),
            conflicts: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Adds requires.
    pub fn requires(mut self, deps: &[&str]) -> Package {
        self.requires.extend(deps.iter().map(|d| Dep::parse(d)));
        self
    }

    /// Adds provides.
    pub fn provides(mut self, deps: &[&str]) -> Package {
        self.provides.extend(deps.iter().map(|d| Dep::parse(d)));
        self
    }

    /// Adds conflicts.
    pub fn conflicts(mut self, deps: &[&str]) -> Package {
        self.conflicts.extend(deps.iter().map(|d| Dep::parse(d)));
        self
    }

    /// Adds files.
    pub fn files(mut self, files: &[&str]) -> Package {
        self.files.extend(files.iter().map(|f| (*f).to_owned()));
        self
    }

    /// `name-version-release`.
    pub fn nvr(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.release)
    }

    fn pkgid(&self) -> String {
        hex::encode(Sha256::digest(
            format!("{}:{}.{}", self.epoch, self.nvr(), self.arch).as_bytes(),
        ))
    }
}

/// A comps group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Group id (`build`).
    pub id: String,
    /// Package names (written as `mandatory`).
    pub packages: Vec<String>,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn flag(op: &str) -> &'static str {
    match op {
        "<" => "LT",
        "<=" => "LE",
        "=" | "==" => "EQ",
        ">=" => "GE",
        ">" => "GT",
        _ => "EQ",
    }
}

fn entry(out: &mut String, dep: &Dep) {
    match &dep.version {
        None => {
            let _ = writeln!(out, "      <rpm:entry name=\"{}\"/>", esc(&dep.name));
        }
        Some((op, evr)) => {
            let (epoch, rest) = match evr.split_once(':') {
                Some((e, r)) => (e, r),
                None => ("0", evr.as_str()),
            };
            let (ver, rel) = match rest.rsplit_once('-') {
                Some((v, r)) => (v, Some(r)),
                None => (rest, None),
            };
            let _ = write!(
                out,
                "      <rpm:entry name=\"{}\" flags=\"{}\" epoch=\"{}\" ver=\"{}\"",
                esc(&dep.name),
                flag(op),
                esc(epoch),
                esc(ver)
            );
            if let Some(rel) = rel {
                let _ = write!(out, " rel=\"{}\"", esc(rel));
            }
            out.push_str("/>\n");
        }
    }
}

fn deps_block(out: &mut String, tag: &str, deps: &[Dep]) {
    if deps.is_empty() {
        return;
    }
    let _ = writeln!(out, "    <rpm:{tag}>");
    for d in deps {
        entry(out, d);
    }
    let _ = writeln!(out, "    </rpm:{tag}>");
}

fn primary_xml(packages: &[Package]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{}\">",
        packages.len()
    );
    for p in packages {
        let src = if p.arch == "src" {
            String::new()
        } else {
            format!("{}.src.rpm", p.nvr())
        };
        let _ = write!(
            out,
            "<package type=\"rpm\">\n  <name>{name}</name>\n  <arch>{arch}</arch>\n  <version epoch=\"{epoch}\" ver=\"{ver}\" rel=\"{rel}\"/>\n  <checksum type=\"sha256\" pkgid=\"YES\">{pkgid}</checksum>\n  <summary>{name}</summary>\n  <description>{name}</description>\n  <packager></packager>\n  <url></url>\n  <time file=\"0\" build=\"0\"/>\n  <size package=\"0\" installed=\"0\" archive=\"0\"/>\n  <location href=\"Packages/{nvr}.{arch}.rpm\"/>\n  <format>\n    <rpm:license>GPL-2.0-or-later</rpm:license>\n    <rpm:vendor></rpm:vendor>\n    <rpm:group>Unspecified</rpm:group>\n    <rpm:buildhost>koschei-fakehub</rpm:buildhost>\n    <rpm:sourcerpm>{src}</rpm:sourcerpm>\n    <rpm:header-range start=\"0\" end=\"0\"/>\n",
            name = esc(&p.name),
            arch = esc(&p.arch),
            epoch = p.epoch,
            ver = esc(&p.version),
            rel = esc(&p.release),
            pkgid = p.pkgid(),
            nvr = esc(&p.nvr()),
            src = esc(&src),
        );
        let mut provides = Vec::new();
        if p.arch != "src" {
            provides.push(Dep {
                name: p.name.clone(),
                version: Some((
                    "=".to_owned(),
                    format!("{}:{}-{}", p.epoch, p.version, p.release),
                )),
            });
        }
        provides.extend(p.provides.iter().cloned());
        deps_block(&mut out, "provides", &provides);
        deps_block(&mut out, "requires", &p.requires);
        deps_block(&mut out, "conflicts", &p.conflicts);
        for f in &p.files {
            if f.starts_with("/usr/bin/") || f.starts_with("/etc/") || f.starts_with("/bin/") {
                let _ = writeln!(out, "    <file>{}</file>", esc(f));
            }
        }
        out.push_str("  </format>\n</package>\n");
    }
    out.push_str("</metadata>\n");
    out
}

fn filelists_xml(packages: &[Package]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"{}\">",
        packages.len()
    );
    for p in packages {
        let _ = writeln!(
            out,
            "<package pkgid=\"{}\" name=\"{}\" arch=\"{}\">\n  <version epoch=\"{}\" ver=\"{}\" rel=\"{}\"/>",
            p.pkgid(),
            esc(&p.name),
            esc(&p.arch),
            p.epoch,
            esc(&p.version),
            esc(&p.release)
        );
        for f in &p.files {
            let _ = writeln!(out, "  <file>{}</file>", esc(f));
        }
        out.push_str("</package>\n");
    }
    out.push_str("</filelists>\n");
    out
}

fn comps_xml(groups: &[Group]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE comps PUBLIC \"-//Red Hat, Inc.//DTD Comps info//EN\" \"comps.dtd\">\n<comps>\n",
    );
    for g in groups {
        let _ = writeln!(
            out,
            "  <group>\n    <id>{id}</id>\n    <name>{id}</name>\n    <description>{id}</description>\n    <default>false</default>\n    <uservisible>true</uservisible>\n    <packagelist>",
            id = esc(&g.id)
        );
        for p in &g.packages {
            let _ = writeln!(
                out,
                "      <packagereq type=\"mandatory\">{}</packagereq>",
                esc(p)
            );
        }
        out.push_str("    </packagelist>\n  </group>\n");
    }
    out.push_str("</comps>\n");
    out
}

fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

struct DataFile {
    kind: &'static str,
    href: String,
    checksum: String,
    open_checksum: Option<String>,
    size: usize,
    open_size: Option<usize>,
}

/// Writes `dir/repodata/` for `packages` (and the comps `groups`, when any). `revision` goes into
/// repomd.xml, so two repos with the same content but different revisions differ in checksum.
pub fn write_repo(
    dir: &Path,
    packages: &[Package],
    groups: &[Group],
    revision: u64,
) -> io::Result<()> {
    let repodata = dir.join("repodata");
    if repodata.exists() {
        fs::remove_dir_all(&repodata)?;
    }
    fs::create_dir_all(&repodata)?;
    let mut files = Vec::new();
    let compressed = |kind: &'static str, name: &str, xml: String| -> io::Result<DataFile> {
        let gz = gzip(xml.as_bytes())?;
        fs::write(repodata.join(name), &gz)?;
        Ok(DataFile {
            kind,
            href: format!("repodata/{name}"),
            checksum: hex::encode(Sha256::digest(&gz)),
            open_checksum: Some(hex::encode(Sha256::digest(xml.as_bytes()))),
            size: gz.len(),
            open_size: Some(xml.len()),
        })
    };
    files.push(compressed(
        "primary",
        "primary.xml.gz",
        primary_xml(packages),
    )?);
    files.push(compressed(
        "filelists",
        "filelists.xml.gz",
        filelists_xml(packages),
    )?);
    if !groups.is_empty() {
        let comps = comps_xml(groups);
        fs::write(repodata.join("comps.xml"), comps.as_bytes())?;
        files.push(DataFile {
            kind: "group",
            href: "repodata/comps.xml".to_owned(),
            checksum: hex::encode(Sha256::digest(comps.as_bytes())),
            open_checksum: None,
            size: comps.len(),
            open_size: None,
        });
        files.push(compressed("group_gz", "comps.xml.gz", comps)?);
    }
    let mut repomd = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n  <revision>{revision}</revision>\n"
    );
    for f in &files {
        let _ = writeln!(
            repomd,
            "  <data type=\"{}\">\n    <checksum type=\"sha256\">{}</checksum>",
            f.kind, f.checksum
        );
        if let Some(oc) = &f.open_checksum {
            let _ = writeln!(
                repomd,
                "    <open-checksum type=\"sha256\">{oc}</open-checksum>"
            );
        }
        let _ = writeln!(
            repomd,
            "    <location href=\"{}\"/>\n    <timestamp>{revision}</timestamp>\n    <size>{}</size>",
            f.href, f.size
        );
        if let Some(os) = f.open_size {
            let _ = writeln!(repomd, "    <open-size>{os}</open-size>");
        }
        repomd.push_str("  </data>\n");
    }
    repomd.push_str("</repomd>\n");
    fs::write(repodata.join("repomd.xml"), repomd)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_repomd_with_checksums_of_written_files() {
        let dir = std::env::temp_dir().join(format!("koschei-rpmmd-test-{}", std::process::id()));
        let pkgs = vec![
            Package::new("foo", "1.0-1", "x86_64").requires(&["bar >= 2", "/bin/sh"]),
            Package::new("bar", "1:2.0-3", "noarch").files(&["/bin/sh"]),
        ];
        let groups = vec![Group {
            id: "build".into(),
            packages: vec!["bar".into()],
        }];
        write_repo(&dir, &pkgs, &groups, 42).unwrap();
        let repomd = fs::read_to_string(dir.join("repodata/repomd.xml")).unwrap();
        let primary = fs::read(dir.join("repodata/primary.xml.gz")).unwrap();
        assert!(repomd.contains(&hex::encode(Sha256::digest(&primary))));
        assert!(repomd.contains("<data type=\"group\">"));
        let mut xml = String::new();
        io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&primary[..]), &mut xml)
            .unwrap();
        assert!(xml.contains("<rpm:entry name=\"bar\" flags=\"GE\" epoch=\"0\" ver=\"2\"/>"));
        assert!(xml.contains("<version epoch=\"1\" ver=\"2.0\" rel=\"3\"/>"));
        assert!(xml.contains("<file>/bin/sh</file>"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
