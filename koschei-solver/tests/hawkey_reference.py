#!/usr/bin/python3
"""Resolve source packages with python3-hawkey exactly as Koschei does.

Reference for koschei-solver's differential test and benchmark.  Prints one
JSON object per source package (in source-repo order) and a final summary:

    {"name", "evr": "E:V-R", "resolved", "installs": [sorted NEVRAs], "problems": [sorted],
     "listed_problems": [as run_goal lists them]}
    {"summary": {"packages", "resolved", "unresolved", "load_xml_s", "load_cache_s",
                 "solve_s", "mean_ms", "p95_ms", "max_rss_kib"}}

The binary repo is loaded the way deployed Koschei loads it: a hawkey Sack with
a cachedir and ``build_cache=True``, then loaded a second time so that every
answer comes from libdnf's own ``.solv`` cache (spec/solver-facts.md, section 2).
Resolution follows koschei/backend/depsolve.py ``run_goal``.  ``problems`` is
what Koschei's repo resolver stores (``set(problems)``, one row per text);
``listed_problems`` is run_goal's list before that, with one
``No package found for`` per listing of a missing BuildRequire.

Run with the system interpreter: /usr/bin/python3 hawkey_reference.py --repo DIR --sources DIR
"""

import argparse
import gzip
import json
import lzma
import os
import resource
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import hawkey

COMMON = "{http://linux.duke.edu/metadata/common}"
RPM = "{http://linux.duke.edu/metadata/rpm}"
REPO = "{http://linux.duke.edu/metadata/repo}"
FLAG_OPS = {"LT": "<", "LE": "<=", "EQ": "=", "GE": ">=", "GT": ">"}


def open_any(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".xz"):
        return lzma.open(path, "rb")
    if path.endswith(".zst"):
        import zstandard  # optional

        return zstandard.open(path, "rb")
    return open(path, "rb")


def repomd_locations(repo_dir):
    tree = ET.parse(os.path.join(repo_dir, "repodata", "repomd.xml"))
    out = {}
    for data in tree.getroot().iter(REPO + "data"):
        loc = data.find(REPO + "location").get("href")
        out[data.get("type")] = os.path.join(repo_dir, loc)
    return out


def evr_text(epoch, ver, rel):
    s = ver or ""
    if epoch and epoch != "0":
        s = epoch + ":" + s
    if rel is not None:
        s += "-" + rel
    return s


def read_sources(src_dir):
    """(name, "E:V-R", [BuildRequires strings]) in primary order."""
    primary = repomd_locations(src_dir)["primary"]
    out = []
    with open_any(primary) as fp:
        for _, elem in ET.iterparse(fp):
            if elem.tag != COMMON + "package":
                continue
            name = elem.find(COMMON + "name").text
            v = elem.find(COMMON + "version")
            evr = "%s:%s-%s" % (v.get("epoch") or "0", v.get("ver"), v.get("rel"))
            brs = []
            req = elem.find(COMMON + "format/" + RPM + "requires")
            if req is not None:
                for e in req.findall(RPM + "entry"):
                    dep = e.get("name")
                    flags = e.get("flags")
                    if flags:
                        dep += " %s %s" % (
                            FLAG_OPS[flags],
                            evr_text(e.get("epoch"), e.get("ver"), e.get("rel")),
                        )
                    brs.append(dep)
            out.append((name, evr, brs))
            elem.clear()
    return out


def read_group(repo_dir, group_id):
    locs = repomd_locations(repo_dir)
    path = locs.get("group") or locs.get("group_gz")
    if path is None:
        return []
    with open_any(path) as fp:
        root = ET.parse(fp).getroot()
    for group in root.iter("group"):
        if group.findtext("id") == group_id:
            return [
                p.text
                for p in group.iter("packagereq")
                if p.get("type", "mandatory") in ("mandatory", "default")
            ]
    return []


def load_sack(repo_dir, name, cachedir):
    locs = repomd_locations(repo_dir)
    sack = hawkey.Sack(arch="x86_64", cachedir=cachedir)
    repo = hawkey._hawkey.Repo(name)  # hawkey.Repo minus its deprecation warning
    repo.repomd_fn = os.path.join(repo_dir, "repodata", "repomd.xml")
    repo.primary_fn = locs["primary"]
    repo.filelists_fn = locs["filelists"]
    sack.load_repo(repo, load_filelists=True, build_cache=True)
    return sack


def selector(sack, dep):
    sltr = hawkey.Selector(sack)
    sltr.set(provides=dep)
    found = sltr.matches()
    if not found and dep.startswith("/"):
        sltr = hawkey.Selector(sack)
        sltr.set(file=dep)
    return sltr


def run_goal_listed(sack, br, group, ignore_weak_deps):
    """run_goal's (resolved, problems as it lists them, sorted installs)."""
    goal = hawkey.Goal(sack)
    problems = []
    for name in group:
        sltr = selector(sack, name)
        if sltr.matches():
            goal.install(select=sltr)
    for r in br:
        sltr = selector(sack, r)
        if not sltr.matches():
            if not r.startswith("("):
                problems.append("No package found for: {}".format(r))
        else:
            goal.install(select=sltr)
    kwargs = {"ignore_weak_deps": True} if ignore_weak_deps else {}
    goal.run(**kwargs)
    for first, *rest in goal.problem_rules():
        problems.append(
            "Problem: {}".format(first) + "".join("\n - {}".format(p) for p in rest)
        )
    resolved = not problems
    installs = []
    if resolved:
        for pkg in goal.list_installs():
            if pkg.arch == "src":
                continue
            installs.append(
                "%s-%d:%s-%s.%s" % (pkg.name, pkg.epoch, pkg.version, pkg.release, pkg.arch)
            )
    return resolved, problems, sorted(installs)


def run_goal(sack, br, group, ignore_weak_deps):
    """(resolved, problems as Koschei stores them: a set, here sorted, sorted installs)."""
    resolved, listed, installs = run_goal_listed(sack, br, group, ignore_weak_deps)
    return resolved, sorted(set(listed)), installs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--repo-name", default=None)
    ap.add_argument("--group", default="build")
    ap.add_argument("--ignore-weak-deps", action="store_true")
    ap.add_argument("--package", action="append", default=[])
    ap.add_argument("--limit", type=int, default=0, help="only the first N sources")
    ap.add_argument("--cachedir", default=None)
    args = ap.parse_args()

    name = args.repo_name or os.path.basename(os.path.abspath(args.repo))
    cachedir = args.cachedir or tempfile.mkdtemp(prefix="hawkey-ref-")
    t0 = time.monotonic()
    load_sack(args.repo, name, cachedir)
    t1 = time.monotonic()
    sack = load_sack(args.repo, name, cachedir)  # answers come from the .solv cache
    t2 = time.monotonic()
    group = read_group(args.repo, args.group)
    sources = read_sources(args.sources)
    if args.package:
        wanted = set(args.package)
        sources = [s for s in sources if s[0] in wanted]
    if args.limit:
        sources = sources[: args.limit]

    times = []
    n_resolved = 0
    t3 = time.monotonic()
    out = sys.stdout
    for src_name, evr, brs in sources:
        s0 = time.monotonic()
        resolved, listed, installs = run_goal_listed(sack, brs, group, args.ignore_weak_deps)
        times.append(time.monotonic() - s0)
        n_resolved += resolved
        out.write(
            json.dumps(
                {
                    "name": src_name,
                    "evr": evr,
                    "resolved": resolved,
                    "installs": installs,
                    "problems": sorted(set(listed)),
                    "listed_problems": listed,
                }
            )
            + "\n"
        )
    t4 = time.monotonic()
    times.sort()
    n = len(times)
    summary = {
        "packages": n,
        "resolved": n_resolved,
        "unresolved": n - n_resolved,
        "load_xml_s": round(t1 - t0, 4),
        "load_cache_s": round(t2 - t1, 4),
        "solve_s": round(t4 - t3, 3),
        "mean_ms": round(1000 * sum(times) / n, 3) if n else 0,
        "p95_ms": round(1000 * times[min(n - 1, int(n * 0.95))], 3) if n else 0,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    out.write(json.dumps({"summary": summary}) + "\n")


if __name__ == "__main__":
    main()
