#!/usr/bin/env python3
"""Regenerate the hand-written rpm-md fixture repositories (deterministic).

Run from anywhere: python3 koschei-solver/tests/data/generate.py
Each case directory gets binary/ (x86_64 + noarch packages, comps) and
source/ (arch "src" packages whose requires are the BuildRequires), with
real checksums in repomd.xml.  Compression and checksum types vary on
purpose (gzip, xz, zstd, plain; sha1, sha256, sha512).  zstd needs the
`zstd` command (Debian package zstd).  See README.md for what each case
exercises.
"""

import gzip
import hashlib
import io
import lzma
import os
import shutil
import subprocess
from xml.sax.saxutils import escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
TIMESTAMP = 1700000000


def pkg(name, ver="1.0", rel="1", arch="x86_64", epoch="0", provides=(), requires=(),
        conflicts=(), obsoletes=(), recommends=(), supplements=(), files=(), fl_files=()):
    return dict(name=name, ver=ver, rel=rel, arch=arch, epoch=epoch, provides=list(provides),
                requires=list(requires), conflicts=list(conflicts), obsoletes=list(obsoletes),
                recommends=list(recommends), supplements=list(supplements), files=list(files),
                fl_files=list(fl_files))


FLAGS = {"<": "LT", "<=": "LE", "=": "EQ", ">=": "GE", ">": "GT"}


def entry(dep, pre=False):
    """<rpm:entry> for 'name', 'name OP [E:]V[-R]' or a rich dep."""
    parts = dep.split()
    attrs = ""
    if len(parts) == 3 and not dep.startswith("("):
        name, op, evr = parts
        epoch = "0"
        if ":" in evr:
            epoch, evr = evr.split(":", 1)
        ver, _, rel = evr.partition("-")
        attrs = ' flags="%s" epoch="%s" ver=%s' % (FLAGS[op], epoch, quoteattr(ver))
        if rel:
            attrs += " rel=%s" % quoteattr(rel)
    else:
        name = dep
    if pre:
        attrs += ' pre="1"'
    return "        <rpm:entry name=%s%s/>\n" % (quoteattr(name), attrs)


def file_entry(f):
    """<file> for a path, or <file type="dir"> for ("path", "dir")."""
    if isinstance(f, tuple):
        path, kind = f
        return '<file type="%s">%s</file>' % (kind, escape(path))
    return "<file>%s</file>" % escape(f)


def pkgid(p):
    return hashlib.sha256(("%(name)s-%(epoch)s:%(ver)s-%(rel)s.%(arch)s" % p).encode()).hexdigest()


def primary_xml(pkgs):
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<metadata xmlns="http://linux.duke.edu/metadata/common" '
              'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">\n' % len(pkgs))
    for p in pkgs:
        out.write('<package type="rpm">\n  <name>%s</name>\n  <arch>%s</arch>\n' % (escape(p["name"]), p["arch"]))
        out.write('  <version epoch="%s" ver=%s rel=%s/>\n' % (p["epoch"], quoteattr(p["ver"]), quoteattr(p["rel"])))
        out.write('  <checksum type="sha256" pkgid="YES">%s</checksum>\n' % pkgid(p))
        out.write("  <summary>%s</summary>\n  <description>%s</description>\n" % (escape(p["name"]), escape(p["name"])))
        out.write('  <packager>fixture</packager>\n  <url/>\n  <time file="%d" build="%d"/>\n' % (TIMESTAMP, TIMESTAMP))
        out.write('  <size package="1000" installed="1000" archive="1000"/>\n')
        out.write('  <location href="Packages/%s-%s-%s.%s.rpm"/>\n' % (p["name"], p["ver"], p["rel"], p["arch"]))
        out.write("  <format>\n    <rpm:license>MIT</rpm:license>\n")
        out.write("    <rpm:sourcerpm>%s</rpm:sourcerpm>\n" % ("" if p["arch"] == "src" else "%s-%s-%s.src.rpm" % (p["name"], p["ver"], p["rel"])))
        out.write('    <rpm:header-range start="0" end="0"/>\n')
        provides = list(p["provides"])
        if p["arch"] != "src":
            evr = ("%s:" % p["epoch"] if p["epoch"] != "0" else "") + "%s-%s" % (p["ver"], p["rel"])
            provides = ["%s = %s" % (p["name"], evr)] + provides
        for tag, deps in (("provides", provides), ("requires", p["requires"]),
                          ("conflicts", p["conflicts"]), ("obsoletes", p["obsoletes"]),
                          ("recommends", p["recommends"]), ("supplements", p["supplements"])):
            if not deps:
                continue
            out.write("    <rpm:%s>\n" % tag)
            for d in deps:
                pre = isinstance(d, tuple)
                out.write(entry(d[0] if pre else d, pre))
            out.write("    </rpm:%s>\n" % tag)
        for f in p["files"]:
            out.write("    %s\n" % file_entry(f))
        out.write("  </format>\n</package>\n")
    out.write("</metadata>\n")
    return out.getvalue().encode()


def filelists_xml(pkgs):
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="%d">\n' % len(pkgs))
    for p in pkgs:
        out.write('<package pkgid="%s" name=%s arch="%s">\n' % (pkgid(p), quoteattr(p["name"]), p["arch"]))
        out.write('  <version epoch="%s" ver=%s rel=%s/>\n' % (p["epoch"], quoteattr(p["ver"]), quoteattr(p["rel"])))
        for f in p["files"] + p["fl_files"]:
            out.write("  %s\n" % file_entry(f))
        out.write("</package>\n")
    out.write("</filelists>\n")
    return out.getvalue().encode()


def comps_xml(groups):
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<comps>\n')
    for gid, members in groups.items():
        out.write("  <group>\n    <id>%s</id>\n    <name>%s</name>\n    <packagelist>\n" % (gid, gid))
        for m, typ in members:
            out.write('      <packagereq type="%s">%s</packagereq>\n' % (typ, escape(m)))
        out.write("    </packagelist>\n  </group>\n")
    out.write("</comps>\n")
    return out.getvalue().encode()


def compress(data, how):
    if how == "gz":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
            f.write(data)
        return buf.getvalue(), ".gz"
    if how == "xz":
        return lzma.compress(data), ".xz"
    if how == "zst":
        return subprocess.run(["zstd", "-q", "-19", "-c"], input=data, check=True, stdout=subprocess.PIPE).stdout, ".zst"
    return data, ""


def write_repo(root, files):
    """files: list of (type, basename, raw bytes, compression, checksum type)."""
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(os.path.join(root, "repodata"))
    data_xml = []
    for kind, base, raw, how, ctype in files:
        data, suffix = compress(raw, how)
        href = "repodata/%s%s" % (base, suffix)
        with open(os.path.join(root, href), "wb") as f:
            f.write(data)
        d = '  <data type="%s">\n    <checksum type="%s">%s</checksum>\n' % (kind, ctype, hashlib.new(ctype, data).hexdigest())
        if how:
            d += '    <open-checksum type="sha256">%s</open-checksum>\n' % hashlib.sha256(raw).hexdigest()
        d += '    <location href="%s"/>\n    <timestamp>%d</timestamp>\n    <size>%d</size>\n' % (href, TIMESTAMP, len(data))
        if how:
            d += "    <open-size>%d</open-size>\n" % len(raw)
        d += "  </data>\n"
        data_xml.append(d)
    with open(os.path.join(root, "repodata", "repomd.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo" '
                'xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n  <revision>%d</revision>\n' % TIMESTAMP)
        f.write("".join(data_xml))
        f.write("</repomd>\n")


def case(name, binary, sources, group, primary_how, filelists_how, checksum="sha256"):
    root = os.path.join(HERE, name)
    comps = comps_xml({"build": group, "other": [("unrelated", "mandatory")]})
    write_repo(os.path.join(root, "binary"), [
        ("primary", "primary.xml", primary_xml(binary), primary_how, checksum),
        ("filelists", "filelists.xml", filelists_xml(binary), filelists_how, "sha256"),
        ("group", "comps.xml", comps, "", "sha1"),
        ("group_gz", "comps.xml", comps, "gz", "sha256"),
    ])
    srcs = [pkg(n, ver=v, rel="1", arch="src", requires=brs) for n, v, brs in sources]
    write_repo(os.path.join(root, "source"), [
        ("primary", "primary.xml", primary_xml(srcs), "gz", "sha256"),
        ("filelists", "filelists.xml", filelists_xml(srcs), "gz", "sha256"),
    ])


def problems_case():
    binary = [
        pkg("base", arch="noarch", files=["/etc/base.conf"]),
        pkg("shell", provides=["/bin/sh"], requires=[("base", True)], files=["/bin/sh"]),
        # A conflict between two libraries needed together.
        pkg("lib-a", ver="2.0", conflicts=["lib-b"]),
        pkg("lib-b", ver="3.1"),
        pkg("tool-x", requires=["lib-a"]),
        pkg("tool-y", arch="noarch", requires=["lib-b >= 3"]),
        # A dependency that was removed from the repository.
        pkg("needs-gone", requires=["libgone.so.1()(64bit)"]),
        pkg("tool-z", requires=["libz-virtual"]),
        pkg("libz1", provides=["libz-virtual"], requires=["libgone.so.1()(64bit)"]),
        # Two versions of one name.
        pkg("multi", ver="1"),
        pkg("multi", ver="2"),
        # Obsoletes.
        pkg("oldpkg", ver="1"),
        pkg("newpkg", ver="2", obsoletes=["oldpkg < 2"], provides=["oldpkg = 2"]),
        # Epochs.
        pkg("epochpkg", epoch="2", ver="1.5"),
        # Weak dependencies.
        pkg("app", arch="noarch", recommends=["app-extra"], requires=["shell"]),
        pkg("app-extra", arch="noarch"),
        pkg("plugin", arch="noarch", supplements=["app"]),
        # Files: one listed only in filelists, one in primary.
        pkg("frob", fl_files=["/usr/bin/frobnicate", "/usr/share/frob/data"]),
        pkg("thing", files=["/usr/lib/libthing.so.1"]),
        pkg("uses-thing", requires=["/usr/lib/libthing.so.1"]),
        pkg("needs-frobdata", arch="noarch", requires=["/usr/share/frob/data"]),
        # Wrong architecture only.
        pkg("only32", arch="i686"),
        pkg("only-arm", arch="aarch64"),
        # Alternatives (rich) inside a package.
        pkg("rich-user", arch="noarch", requires=["(tool-x or tool-y)"]),
        # A package the build group pulls in that conflicts with a BR target.
        pkg("grouplib", conflicts=["breaks-group"]),
        pkg("breaks-group"),
    ]
    sources = [
        ("ok-simple", "1", ["tool-x", "multi >= 2", "epochpkg >= 2:1.0"]),
        ("conflicting", "1", ["tool-x", "tool-y"]),
        ("dep-removed", "1", ["needs-gone"]),
        ("providers-broken", "1", ["tool-z"]),
        ("two-versions", "1", ["multi = 1", "multi = 2"]),
        ("obsoleted", "1", ["oldpkg = 1", "newpkg"]),
        ("missing-br", "1", ["tool-x", "missing >= 2", "(nothing or nowhere)"]),
        ("weak", "1", ["app"]),
        ("file-br", "1", ["/usr/bin/frobnicate", "uses-thing", "/bin/sh"]),
        ("file-missing", "1", ["/usr/bin/nowhere"]),
        ("file-in-filelists", "1", ["/usr/share/frob/data"]),
        ("file-requires", "1", ["needs-frobdata"]),
        ("rich-br", "1", ["(tool-x or tool-y)", "rich-user", "(lib-b if tool-y)"]),
        ("wrong-arch", "1", ["only32"]),
        ("incompatible-arch", "1", ["only-arm"]),
        ("epoch-too-low", "1", ["epochpkg >= 3:1"]),
        ("group-conflict", "1", ["breaks-group"]),
        ("many-problems", "1", ["tool-x", "tool-y", "needs-gone", "multi = 1", "multi = 2"]),
        ("no-brs", "1", []),
    ]
    group = [("base", "mandatory"), ("shell", "default"), ("grouplib", "mandatory"),
             ("not-in-repo", "mandatory"), ("optional-thing", "optional")]
    case("problems", binary, sources, group, "xz", "gz", checksum="sha512")


def distance_case():
    # spec 3.4: BR A, F; A->B, F->B,C,E; E->D; B->C; build group member R.
    binary = [
        pkg("A", arch="noarch", requires=["B"]),
        pkg("B", arch="noarch", requires=["C"]),
        pkg("C", arch="noarch"),
        pkg("D", arch="noarch"),
        pkg("E", arch="noarch", requires=["D"]),
        pkg("F", arch="noarch", requires=["B", "C", "E"]),
        pkg("R", arch="noarch"),
    ]
    sources = [("example", "1", ["A", "F"])]
    case("distance", binary, sources, [("R", "mandatory")], "zst", "", checksum="sha1")


def impact_case():
    """An old and a new state of one repo, plus a side-tag repo to add."""
    root = os.path.join(HERE, "impact")
    group = [("glibc", "mandatory"), ("shell", "mandatory")]
    comps = comps_xml({"build": group})
    common = [
        pkg("glibc", ver="2.36"),
        pkg("shell", requires=["glibc"]),
        pkg("tool", arch="noarch", requires=["shell"]),
        pkg("helper", arch="noarch", requires=["tool"]),
    ]
    old = common + [
        pkg("libfoo", ver="1.0", provides=["libfoo.so.1()(64bit)"], requires=["glibc"]),
        pkg("foo-devel", ver="1.0", requires=["libfoo.so.1()(64bit)"]),
        pkg("foo-tools", ver="1.0", requires=[("foo-devel", True)]),
        pkg("libbar", ver="1.0"),
        pkg("bar-devel", ver="1.0", requires=["libbar"]),
    ]
    new = common + [
        pkg("libfoo", ver="2.0", provides=["libfoo.so.2()(64bit)"], requires=["glibc"]),
        pkg("foo-devel", ver="2.0", requires=["libfoo.so.2()(64bit)"]),
        pkg("foo-tools", ver="1.0", requires=[("foo-devel", True)]),
        pkg("bar-devel", ver="1.0", requires=["libbar"]),
        pkg("newlib", ver="1.0", requires=["glibc"]),
    ]
    side = [
        pkg("libfoo", ver="3.0", provides=["libfoo.so.1()(64bit)"], requires=["glibc"]),
        pkg("newlib", ver="0.9"),
    ]
    for sub, pkgs, with_comps in (("old", old, True), ("new", new, True), ("side", side, False)):
        files = [
            ("primary", "primary.xml", primary_xml(pkgs), "gz", "sha256"),
            ("filelists", "filelists.xml", filelists_xml(pkgs), "gz", "sha256"),
        ]
        if with_comps:
            files.append(("group", "comps.xml", comps, "", "sha256"))
        write_repo(os.path.join(root, sub), files)
    sources = [
        ("uses-foo", "1", ["foo-tools"]),
        ("uses-bar", "1", ["bar-devel", "tool"]),
        ("wants-newlib", "1", ["newlib"]),
        ("plain", "1", ["helper"]),
        ("hopeless", "1", ["missing"]),
        ("direct-libfoo", "1", ["libfoo >= 1.0"]),
        ("old-libfoo", "1", ["libfoo < 2.0"]),
    ]
    srcs = [pkg(n, ver=v, rel="1", arch="src", requires=brs) for n, v, brs in sources]
    write_repo(os.path.join(root, "source"), [
        ("primary", "primary.xml", primary_xml(srcs), "gz", "sha256"),
    ])


def incremental_case():
    """Old and new state of one repo where each source's answer changes for
    a reason its old install set does not show (the affect rule's traps),
    plus controls whose answers carry over."""
    root = os.path.join(HERE, "incremental")
    group = [("glibc", "mandatory"), ("shell", "mandatory")]
    comps = comps_xml({"build": group})
    common = [
        pkg("glibc", ver="2.36"),
        pkg("shell", requires=["glibc"]),
        pkg("app", requires=["backend"]),
        pkg("backend-a", provides=["backend"], requires=["liba"]),
        pkg("backend-z", provides=["backend"]),
        pkg("viewer", requires=["virt"]),
        pkg("impl-b", provides=["virt"]),
        pkg("impl-c", provides=["virt"]),
        pkg("pinned", requires=["libpin = 1.0-1"]),
        pkg("base-lib"),
        pkg("needs-x", requires=["x"]),
        pkg("x", requires=["y"]),
        pkg("y-z", provides=["y"]),
        pkg("stable-user", requires=["stable-lib"]),
        pkg("stable-lib"),
        pkg("bumped-user", requires=["bumped-lib >= 1.0"]),
        pkg("gone-user", requires=["gone-lib"]),
        pkg("ra"),
    ]
    old = common + [
        # Successors whose requires change; nobody's closure contains them.
        pkg("ref1", requires=["impl-c"]),
        pkg("ref2", requires=["impl-c"]),
        pkg("ref3", requires=["impl-c"]),
        pkg("libpin", ver="1.0", rel="1"),
        pkg("y-a", provides=["y"]),
        pkg("bumped-lib", ver="1.0", rel="1"),
        pkg("gone-lib"),
        pkg("richpkg", requires=["(ra or rb)"]),
        # Multilib: only the i686 build of mlib-a; both builds of mlib-b and
        # mlib-c, of one version.
        pkg("mlib-a", arch="i686", provides=["mlib-a(x86-32) = 1.0-1"]),
        pkg("mlib-b", provides=["mlib-b(x86-64) = 1.0-1"]),
        pkg("mlib-b", arch="i686", provides=["mlib-b(x86-32) = 1.0-1"]),
        pkg("mlib-c", provides=["mlib-c(x86-64) = 1.0-1"]),
        pkg("mlib-c", arch="i686", provides=["mlib-c(x86-32) = 1.0-1"]),
    ]
    new = common + [
        pkg("ref1", rel="2", requires=["impl-b"]),
        pkg("ref2", rel="2", requires=["impl-b"]),
        pkg("ref3", rel="2", requires=["impl-b"]),
        pkg("libpin", ver="1.0", rel="1.1"),
        pkg("y-a", rel="2", provides=["y"], conflicts=["shell"]),
        pkg("bumped-lib", ver="1.0", rel="1.1"),
        pkg("liba"),
        pkg("addon", supplements=["base-lib"]),
        # A new provider libsolv prefers (names sort before impl-b).
        pkg("impl-a", provides=["virt"]),
        # The same operands, another operator.
        pkg("richpkg", rel="2", requires=["(ra and rb)"]),
        # The x86_64 build of mlib-a appears (the i686 one now needs it in
        # lock-step); only the x86_64 build of mlib-b is rebuilt (the i686
        # one has no x86_64 build of its version left); both builds of
        # mlib-c are rebuilt together.
        pkg("mlib-a", provides=["mlib-a(x86-64) = 1.0-1"]),
        pkg("mlib-a", arch="i686", provides=["mlib-a(x86-32) = 1.0-1"]),
        pkg("mlib-b", rel="2", provides=["mlib-b(x86-64) = 1.0-2"]),
        pkg("mlib-b", arch="i686", provides=["mlib-b(x86-32) = 1.0-1"]),
        pkg("mlib-c", rel="2", provides=["mlib-c(x86-64) = 1.0-2"]),
        pkg("mlib-c", arch="i686", rel="2", provides=["mlib-c(x86-32) = 1.0-2"]),
    ]
    for sub, pkgs in (("old", old), ("new", new)):
        write_repo(os.path.join(root, sub), [
            ("primary", "primary.xml", primary_xml(pkgs), "gz", "sha256"),
            ("filelists", "filelists.xml", filelists_xml(pkgs), "gz", "sha256"),
            ("group", "comps.xml", comps, "", "sha256"),
        ])
    sources = [
        ("deep-alternative", "1", ["app"]),
        ("new-provider", "1", ["viewer"]),
        ("strict-pin", "1", ["pinned"]),
        ("supplemented", "1", ["base-lib"]),
        ("conflicting-successor", "1", ["needs-x"]),
        ("removed", "1", ["gone-user"]),
        ("rich-operator", "1", ["richpkg"]),
        ("stable", "1", ["stable-user"]),
        ("bumped", "1", ["bumped-user"]),
        ("multilib-mate-added", "1", ["mlib-a(x86-32)"]),
        ("multilib-mate-rebuilt", "1", ["mlib-b(x86-32)"]),
        ("multilib-rebuilt", "1", ["mlib-c(x86-32)"]),
    ]
    srcs = [pkg(n, ver=v, rel="1", arch="src", requires=brs) for n, v, brs in sources]
    write_repo(os.path.join(root, "source"), [
        ("primary", "primary.xml", primary_xml(srcs), "gz", "sha256"),
    ])


def edge_cases_case():
    """Three kinds of BuildRequires where a plain libsolv caller and hawkey used to differ."""
    binary = [
        pkg("base", arch="noarch"),
        # Multilib: one name built for both arches, with rpm's ISA provides.
        pkg("libfoo", provides=["libfoo(x86-64) = 1.0-1"], files=["/usr/lib64/libfoo.so.1"]),
        pkg("libfoo", arch="i686", provides=["libfoo(x86-32) = 1.0-1"], files=["/usr/lib/libfoo.so.1"]),
        pkg("libfoo-devel", provides=["libfoo-devel(x86-64) = 1.0-1"], requires=["libfoo(x86-64) = 1.0-1"]),
        pkg("libfoo-devel", arch="i686", provides=["libfoo-devel(x86-32) = 1.0-1"],
            requires=["libfoo(x86-32) = 1.0-1"]),
        # Only the 32-bit build exists.
        pkg("only32", arch="i686", provides=["only32(x86-32) = 1.0-1"]),
        # Both arches, but not of the same version (so a reused solver could
        # answer differently from a fresh one).
        pkg("libbar", ver="2.0", provides=["libbar(x86-64) = 2.0-1"], requires=["base"]),
        pkg("libbar", arch="i686", provides=["libbar(x86-32) = 1.0-1"]),
        pkg("needs-libbar32", arch="noarch", requires=["libbar(x86-32)"]),
        # Directories, owned (type="dir") in filelists only and in primary.
        pkg("tool", fl_files=[("/usr/share/tool", "dir"), "/usr/share/tool/data"]),
        pkg("etc-tool", arch="noarch", files=[("/etc/tool.d", "dir"), "/etc/tool.d/tool.conf"]),
        pkg("broken", requires=["libgone.so.1()(64bit)"]),
    ]
    sources = [
        ("isa32", "1", ["libfoo(x86-32)"]),
        ("isa32-devel", "1", ["libfoo-devel(x86-32)"]),
        ("isa32-versioned", "1", ["libfoo(x86-32) >= 1.0"]),
        ("isa64", "1", ["libfoo(x86-64)"]),
        ("isa32-only", "1", ["only32(x86-32)"]),
        ("isa32-skewed", "1", ["libbar(x86-32)"]),
        ("isa64-skewed", "1", ["libbar(x86-64)"]),
        ("needs-isa32-skewed", "1", ["needs-libbar32"]),
        ("isa-skewed-both", "1", ["libbar(x86-64)", "needs-libbar32"]),
        ("dir-slash", "1", ["/usr/share/tool/"]),
        ("dir", "1", ["/usr/share/tool"]),
        ("etc-dir-slash", "1", ["/etc/tool.d/"]),
        ("file-slash", "1", ["/usr/share/tool/data/"]),
        ("dir-two-slashes", "1", ["/usr/share/tool//"]),
        ("root", "1", ["/"]),
        ("missing-twice", "1", ["missing", "missing"]),
        ("missing-twice-apart", "1", ["missing", "tool", "missing"]),
        ("missing-and-broken-twice", "1", ["missing", "broken", "missing", "broken"]),
    ]
    case("edge-cases", binary, sources, [("base", "mandatory")], "gz", "gz")


if __name__ == "__main__":
    problems_case()
    distance_case()
    impact_case()
    incremental_case()
    edge_cases_case()
