#!/usr/bin/env python3
"""Write a modified copy of an rpm-md binary repository (test support).

Deterministic for a given --seed.  Modifications, applied in this order:

  --rebuild-fraction F   pick F of the source packages (by sourcerpm) at
                         random; every binary built from them gets its
                         release bumped (rel -> rel.1, self-provides too)
  --avoid-build-group    the random rebuild never picks a source package
                         that builds a member of comps group `build`
  --bump NAME            rebuild the source package that builds binary NAME:
                         all its binaries get a release bump (repeatable)
  --remove-fraction F    remove F of the binary packages
  --new-provider-fraction F
                         for F of the binaries, add a new package
                         `<name>-alt` that provides the same name (an
                         alternative provider with a lower version)
  --requires-fraction F  for F of the binaries, drop their last requires
  --shuffle-fraction F   move F of the packages to random places in primary

Filelists are rewritten to match (no files, as in the Debian data), comps
are copied, repomd.xml gets fresh sha256 checksums.

Usage: python3 delta.py --repo IN --out OUT [--seed N] [options]
Prints a JSON summary of what changed.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import xml.etree.ElementTree as ET

REPO_NS = "{http://linux.duke.edu/metadata/repo}"
PKG_RE = re.compile(r"<package type=\"rpm\">.*?</package>\n", re.S)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode()


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
        f.write(data)
    return buf.getvalue()


def field(block, pattern):
    m = re.search(pattern, block)
    return m.group(1) if m else None


def bump(block, rels):
    """Release bump of a rebuilt binary; `rels` maps every binary of the same
    source to its old release.  The package's own version and every entry
    (provides, requires, ...) pinning a sibling's old release move along."""
    def fix(m):
        ent = m.group(0)
        pname = (field(ent, r'name="([^"]*)"') or "").split("(")[0]
        rel = rels.get(pname)
        if rel is not None:
            ent = ent.replace('rel="%s"' % rel, 'rel="%s.1"' % rel)
        return ent
    name = field(block, r"<name>([^<]*)</name>")
    rel = rels[name]
    block = re.sub(r'(<version [^>]*rel=")[^"]*(")', r"\g<1>%s.1\2" % rel, block, count=1)
    return re.sub(r"<rpm:entry [^>]*/>", fix, block)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rebuild-fraction", type=float, default=0.0)
    ap.add_argument("--bump", action="append", default=[])
    ap.add_argument("--avoid-build-group", action="store_true")
    ap.add_argument("--remove-fraction", type=float, default=0.0)
    ap.add_argument("--new-provider-fraction", type=float, default=0.0)
    ap.add_argument("--requires-fraction", type=float, default=0.0)
    ap.add_argument("--shuffle-fraction", type=float, default=0.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    root = ET.parse(os.path.join(args.repo, "repodata", "repomd.xml")).getroot()
    locs = {d.get("type"): d.find(REPO_NS + "location").get("href") for d in root.iter(REPO_NS + "data")}
    primary = read(os.path.join(args.repo, locs["primary"]))
    head = primary[: primary.index('<package type="rpm">')]
    blocks = PKG_RE.findall(primary)
    names = [field(b, r"<name>([^<]*)</name>") for b in blocks]
    srpms = [field(b, r"<rpm:sourcerpm>([^<]*)</rpm:sourcerpm>") or "" for b in blocks]

    summary = {"seed": args.seed, "binaries_before": len(blocks)}
    distinct = sorted(set(srpms))
    if args.avoid_build_group and "group" in locs:
        comps = ET.parse(os.path.join(args.repo, locs["group"])).getroot()
        members = set()
        for g in comps.iter("group"):
            if g.findtext("id") == "build":
                members |= {r.text.strip() for r in g.iter("packagereq") if r.text}
        avoid = {s for n, s in zip(names, srpms) if n in members}
        distinct = [s for s in distinct if s not in avoid]
        summary["sources_avoided"] = len(avoid)
    rebuilt = set(rng.sample(distinct, int(len(distinct) * args.rebuild_fraction)))
    rebuilt |= {s for n, s in zip(names, srpms) if n in args.bump}
    bumped = set()
    siblings = {}
    for b, n, s in zip(blocks, names, srpms):
        if s in rebuilt:
            siblings.setdefault(s, {})[n] = field(b, r'<version [^>]*rel="([^"]*)"')
    for i, (b, n, s) in enumerate(zip(blocks, names, srpms)):
        if s in rebuilt:
            blocks[i] = bump(b, siblings[s])
            bumped.add(n)
    summary["sources_rebuilt"] = len(rebuilt)
    summary["binaries_bumped"] = len(bumped)

    remove = set(rng.sample(range(len(blocks)), int(len(blocks) * args.remove_fraction)))
    summary["binaries_removed"] = sorted(names[i] for i in remove)[:50]
    summary["binaries_removed_count"] = len(remove)
    extra = []
    for i in rng.sample(range(len(blocks)), int(len(blocks) * args.new_provider_fraction)):
        if i in remove:
            continue
        n = names[i]
        alt = re.sub(r"<name>[^<]*</name>", "<name>%s-alt</name>" % n, blocks[i], count=1)
        alt = re.sub(r"<rpm:provides>.*?</rpm:provides>",
                     '<rpm:provides>\n        <rpm:entry name="%s-alt"/>\n        <rpm:entry name="%s"/>\n      </rpm:provides>' % (n, n),
                     alt, count=1, flags=re.S)
        extra.append(alt)
    summary["providers_added"] = len(extra)
    changed_req = 0
    for i in rng.sample(range(len(blocks)), int(len(blocks) * args.requires_fraction)):
        b = blocks[i]
        m = list(re.finditer(r"<rpm:requires>(.*?)</rpm:requires>", b, re.S))
        if m:
            entries = re.findall(r"<rpm:entry [^>]*/>", m[0].group(1))
            if entries:
                blocks[i] = b.replace(entries[-1], "", 1)
                changed_req += 1
    summary["requires_changed"] = changed_req

    out_blocks = [b for i, b in enumerate(blocks) if i not in remove] + extra
    moved = rng.sample(range(len(out_blocks)), int(len(out_blocks) * args.shuffle_fraction))
    for i in sorted(moved, reverse=True):
        b = out_blocks.pop(i)
        out_blocks.insert(rng.randrange(len(out_blocks) + 1), b)
    summary["packages_moved"] = len(moved)
    # Give every package a fresh, unique pkgid derived from its content.
    final = []
    for b in out_blocks:
        pkgid = hashlib.sha256(b.encode()).hexdigest()
        final.append(re.sub(r'(<checksum type="sha256" pkgid="YES">)[0-9a-f]*(</checksum>)', r"\g<1>%s\2" % pkgid, b, count=1))
    head = re.sub(r'packages="\d+"', 'packages="%d"' % len(final), head)
    new_primary = (head + "".join(final) + "</metadata>\n").encode()
    fl = ['<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="%d">\n' % len(final)]
    for b in final:
        fl.append('<package pkgid="%s" name="%s" arch="%s">\n  %s\n</package>\n' % (
            field(b, r'pkgid="YES">([0-9a-f]*)<'), field(b, r"<name>([^<]*)</name>"),
            field(b, r"<arch>([^<]*)</arch>"), field(b, r"(<version [^>]*/>)")))
    fl.append("</filelists>\n")
    summary["binaries_after"] = len(final)

    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(os.path.join(args.out, "repodata"))
    files = [("primary", "repodata/primary.xml.gz", gz(new_primary)),
             ("filelists", "repodata/filelists.xml.gz", gz("".join(fl).encode()))]
    for kind in ("group", "group_gz"):
        if kind in locs:
            with open(os.path.join(args.repo, locs[kind]), "rb") as f:
                files.append((kind, locs[kind], f.read()))
    xml = ['<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo">\n']
    for kind, href, data in files:
        with open(os.path.join(args.out, href), "wb") as f:
            f.write(data)
        xml.append('  <data type="%s">\n    <checksum type="sha256">%s</checksum>\n    <location href="%s"/>\n    <size>%d</size>\n  </data>\n'
                   % (kind, hashlib.sha256(data).hexdigest(), href, len(data)))
    xml.append("</repomd>\n")
    with open(os.path.join(args.out, "repodata", "repomd.xml"), "w") as f:
        f.write("".join(xml))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
