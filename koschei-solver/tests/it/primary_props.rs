//! Property tests of the `primary` readers: generated source `primary` documents give back
//! their packages through `read_source_packages`, truncations are parse errors naming the
//! file, damaged bytes never panic (in our parser or in libsolv's, through
//! `Repository::load`) and give typed errors.

use std::path::Path;

use koschei_core::repo::repomd::{ChecksumKind, Hasher};
use koschei_solver::{Repository, SolverError, SourcePackage, read_source_packages};

use crate::support::{TempDir, options};
use koschei_fakehub::rng::{Rng, for_all, xml_escape};

const CASES: u64 = 300;

/// Writes `primary` as `<dir>/repodata/primary.xml` with a repomd.xml that vouches for it.
fn write_repo(dir: &Path, primary: &[u8]) {
    let repodata = dir.join("repodata");
    std::fs::create_dir_all(&repodata).expect("mkdir");
    std::fs::write(repodata.join("primary.xml"), primary).expect("write primary");
    let mut h = Hasher::new(ChecksumKind::Sha256);
    h.update(primary);
    let md = format!(
        "<?xml version=\"1.0\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">\n\
         <data type=\"primary\"><checksum type=\"sha256\">{}</checksum>\
         <location href=\"repodata/primary.xml\"/><size>{}</size></data>\n</repomd>\n",
        h.finish(),
        primary.len()
    );
    std::fs::write(repodata.join("repomd.xml"), md).expect("write repomd");
}

/// A requirement as written (`name`, `flags`, `epoch`, `ver`, `rel` attributes) and the
/// string Koschei builds from it.
struct Dep {
    attrs: Vec<(&'static str, String)>,
    string: String,
}

fn dep(rng: &mut Rng) -> Dep {
    let name = match rng.below(4) {
        0 => format!("({} or {})", rng.word(6), rng.word(6)),
        1 => format!("{}({})", rng.word(6), rng.text(8)),
        _ => format!(
            "{}{}",
            rng.word(10),
            rng.pick(&["", "-devel", "++", " & x"])
        ),
    };
    let mut attrs = vec![("name", name.clone())];
    if rng.chance(40) {
        return Dep {
            attrs,
            string: name,
        };
    }
    let (flags, op) = *rng.pick(&[
        ("LT", "<"),
        ("LE", "<="),
        ("EQ", "="),
        ("GE", ">="),
        ("GT", ">"),
    ]);
    attrs.push(("flags", flags.to_owned()));
    let mut evr = String::new();
    match rng.below(3) {
        0 => {}
        1 => attrs.push(("epoch", "0".to_owned())),
        _ => {
            let e = (1 + rng.below(9)).to_string();
            evr.push_str(&e);
            evr.push(':');
            attrs.push(("epoch", e));
        }
    }
    let ver = format!("{}.{}", rng.below(20), rng.text(4));
    evr.push_str(&ver);
    attrs.push(("ver", ver));
    if rng.chance(60) {
        let rel = format!("{}.fc{}", rng.below(9), 38 + rng.below(5));
        evr.push('-');
        evr.push_str(&rel);
        attrs.push(("rel", rel));
    }
    Dep {
        attrs,
        string: format!("{name} {op} {evr}"),
    }
}

fn entry(rng: &mut Rng, attrs: &[(&str, String)]) -> String {
    let mut s = String::from("<rpm:entry");
    for (k, v) in attrs {
        let q = if rng.chance(70) { '"' } else { '\'' };
        s.push_str(&format!(" {k}={q}{}{q}", xml_escape(v)));
    }
    s.push_str("/>");
    s
}

/// A source `primary` with its packages, as createrepo_c writes one (with some variation).
fn source_primary(rng: &mut Rng) -> (String, Vec<SourcePackage>) {
    let n = rng.below(6);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\"",
    );
    xml.push_str(&format!(" packages=\"{n}\">\n"));
    let mut packages = Vec::new();
    for _ in 0..n {
        let name = format!("{}{}", rng.word(12), rng.pick(&["", "++", "-x&y", "<3"]));
        let epoch = if rng.chance(50) { 0 } else { rng.next() % 100 };
        let version = format!("{}.{}", rng.below(100), rng.text(6));
        let release = format!("{}{}", rng.below(50), rng.text(6));
        let deps: Vec<Dep> = (0..rng.below(6)).map(|_| dep(rng)).collect();
        let epoch_attr = match (epoch, rng.below(3)) {
            (0, 0) => String::new(),
            (0, 1) => " epoch=\"\"".to_owned(),
            (e, _) => format!(" epoch=\"{e}\""),
        };
        xml.push_str("<package type=\"rpm\">\n");
        xml.push_str(&format!(
            "  <name>{}</name>\n  <arch>src</arch>\n",
            xml_escape(&name)
        ));
        xml.push_str(&format!(
            "  <version{epoch_attr} ver=\"{}\" rel=\"{}\"/>\n",
            xml_escape(&version),
            xml_escape(&release)
        ));
        xml.push_str(&format!(
            "  <checksum type=\"sha256\" pkgid=\"YES\">{}</checksum>\n  <summary>{}</summary>\n",
            rng.hex(64),
            xml_escape(&rng.text(30))
        ));
        xml.push_str("  <format>\n    <rpm:license>MIT</rpm:license>\n");
        if rng.chance(50) {
            // Provides are not BuildRequires.
            let p = dep(rng);
            xml.push_str(&format!(
                "    <rpm:provides>{}</rpm:provides>\n",
                entry(rng, &p.attrs)
            ));
        }
        if !deps.is_empty() || rng.chance(30) {
            xml.push_str("    <rpm:requires>\n");
            for d in &deps {
                xml.push_str(&format!("      {}\n", entry(rng, &d.attrs)));
            }
            xml.push_str("    </rpm:requires>\n");
        }
        xml.push_str("  </format>\n</package>\n");
        packages.push(SourcePackage {
            name,
            epoch,
            version,
            release,
            build_requires: deps.into_iter().map(|d| d.string).collect(),
        });
    }
    xml.push_str("</metadata>\n");
    (xml, packages)
}

#[test]
fn generated_source_primaries_give_back_their_packages() {
    let dir = TempDir::new("props-src");
    for_all(31, CASES, |rng, case| {
        let (xml, want) = source_primary(rng);
        write_repo(dir.path(), xml.as_bytes());
        match read_source_packages(dir.path()) {
            Ok(got) => assert_eq!(got, want, "case {case}:\n{xml}"),
            Err(e) => panic!("case {case}: {e}\n{xml}"),
        }
    });
}

#[test]
fn truncated_source_primaries_are_parse_errors_naming_the_file() {
    let dir = TempDir::new("props-src-cut");
    for_all(32, CASES / 2, |rng, case| {
        let (xml, _) = source_primary(rng);
        let end = xml.rfind("</metadata>").expect("closing tag") + "</metadata>".len();
        for _ in 0..4 {
            let cut = rng.below(end);
            write_repo(dir.path(), &xml.as_bytes()[..cut]);
            match read_source_packages(dir.path()) {
                Err(SolverError::Parse { path, .. }) => {
                    assert!(
                        path.ends_with("repodata/primary.xml"),
                        "case {case}: {path:?}"
                    )
                }
                other => panic!(
                    "case {case}: a truncation at byte {cut} of {end} gave {other:?}:\n{}",
                    &xml[..cut]
                ),
            }
        }
    });
}

#[test]
fn damaged_source_primaries_never_panic() {
    let dir = TempDir::new("props-src-damage");
    for_all(33, CASES * 2, |rng, case| {
        let (xml, _) = source_primary(rng);
        let bytes = rng.mutate(xml.as_bytes());
        write_repo(dir.path(), &bytes);
        match read_source_packages(dir.path()) {
            Ok(packages) => {
                for p in packages {
                    assert!(!p.name.is_empty(), "case {case}: {p:?}");
                }
            }
            Err(SolverError::Parse { path, message }) => {
                assert!(path.ends_with("repodata/primary.xml"), "case {case}");
                assert!(!message.is_empty(), "case {case}");
            }
            Err(other) => panic!("case {case}: {other:?}"),
        }
    });
}

/// A binary `primary` (what libsolv reads): a few packages with provides and requires.
fn binary_primary(rng: &mut Rng) -> String {
    let n = 1 + rng.below(5);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{n}\">\n"
    );
    for i in 0..n {
        let name = format!("{}{i}", rng.word(8));
        let requires = dep(rng);
        let requires = entry(rng, &requires.attrs);
        xml.push_str(&format!(
            "<package type=\"rpm\"><name>{name}</name><arch>{}</arch>\
             <version epoch=\"0\" ver=\"{}\" rel=\"1\"/>\
             <checksum type=\"sha256\" pkgid=\"YES\">{}</checksum>\
             <location href=\"Packages/{name}.rpm\"/><format>\
             <rpm:provides><rpm:entry name=\"{name}\" flags=\"EQ\" epoch=\"0\" ver=\"1\" rel=\"1\"/></rpm:provides>\
             <rpm:requires>{}</rpm:requires><file>/usr/bin/{name}</file></format></package>\n",
            rng.pick(&["x86_64", "noarch", "i686"]),
            rng.below(10),
            rng.hex(64),
            requires,
        ));
    }
    xml.push_str("</metadata>\n");
    xml
}

#[test]
fn damaged_binary_primaries_never_panic_in_libsolv() {
    for_all(34, 60, |rng, case| {
        let dir = TempDir::new("props-bin");
        let cache = TempDir::new("props-bin-cache");
        let xml = binary_primary(rng);
        let bytes = if case == 0 {
            xml.into_bytes()
        } else {
            rng.mutate(xml.as_bytes())
        };
        write_repo(dir.path(), &bytes);
        match Repository::load(dir.path(), &options(cache.path())) {
            Ok(repo) => {
                let _ = repo.package_nevras();
            }
            Err(e) => assert!(!e.to_string().is_empty(), "case {case}"),
        }
        if case == 0 {
            // The undamaged document loads.
            let repo = Repository::load(dir.path(), &options(cache.path())).expect("valid");
            assert!(repo.package_count() > 0);
        }
    });
}
