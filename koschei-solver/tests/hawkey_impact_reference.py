#!/usr/bin/python3
"""Impact of a repository change computed with python3-hawkey, as Koschei would.

Reference for `koschei impact --json` (tests/it/impact.rs).  For every source
package: resolve against the old and the new state (koschei run_goal), the
status, the dependency changes (create_dependency_changes) with distances over
the new state (compute_dependency_distances) and the repo resolver's
dependency priority int(sum(256 / (distance or 8))).  The new state is
--new-repo, or --old-repo plus every --add-repo loaded into one sack.

Run with: /usr/bin/python3 hawkey_impact_reference.py --old-repo DIR (--new-repo DIR | --add-repo DIR...) --sources DIR
"""

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hawkey_reference as ref  # noqa: E402
import hawkey  # noqa: E402


def load_state(dirs, cachedir):
    sack = hawkey.Sack(arch="x86_64", cachedir=cachedir)
    for d in dirs:
        locs = ref.repomd_locations(d)
        repo = hawkey._hawkey.Repo(os.path.basename(os.path.abspath(d)))
        repo.repomd_fn = os.path.join(d, "repodata", "repomd.xml")
        repo.primary_fn = locs["primary"]
        repo.filelists_fn = locs["filelists"]
        sack.load_repo(repo, load_filelists=True, build_cache=True)
    return sack


def distances(sack, br, names):
    dist = {}
    visited = set()
    level = 1
    pkgs_on_level = {x for r in br for x in ref.selector(sack, r).matches()}
    while pkgs_on_level:
        for pkg in pkgs_on_level:
            if pkg.name in names and pkg.name not in dist:
                dist[pkg.name] = level
        level += 1
        if level >= 5:
            break
        reldeps = {req for pkg in pkgs_on_level if pkg not in visited for req in pkg.requires}
        visited.update(pkgs_on_level)
        pkgs_on_level = set(hawkey.Query(sack).filter(provides=reldeps)) if reldeps else set()
    return dist


def split(nevra):
    nevr, arch = nevra.rsplit(".", 1)
    nev, rel = nevr.rsplit("-", 1)
    name, ev = nev.rsplit("-", 1)
    return name, ev + "-" + rel


def changes(old, new, dist):
    if not old or not new:
        return []
    old_s, new_s = set(old), set(new)
    out = {}
    for dep in sorted(old_s - new_s):
        name, evr = split(dep)
        out[name] = {"dep_name": name, "prev_evr": evr, "curr_evr": None, "distance": None}
    for dep in sorted(new_s - old_s):
        name, evr = split(dep)
        entry = out.setdefault(name, {"dep_name": name, "prev_evr": None})
        entry["curr_evr"] = evr
        entry["distance"] = dist.get(name)
    return [out[k] for k in sorted(out)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old-repo", required=True)
    ap.add_argument("--new-repo")
    ap.add_argument("--add-repo", action="append", default=[])
    ap.add_argument("--sources", required=True)
    ap.add_argument("--ignore-weak-deps", action="store_true")
    ap.add_argument("--override-by-exclusion", action="store_true")
    args = ap.parse_args()
    new_dirs = [args.new_repo] if args.new_repo else [args.old_repo] + args.add_repo
    old_cache = tempfile.mkdtemp(prefix="hawkey-old-")
    new_cache = tempfile.mkdtemp(prefix="hawkey-new-")
    load_state([args.old_repo], old_cache)
    load_state(new_dirs, new_cache)
    old_sack = load_state([args.old_repo], old_cache)
    new_sack = load_state(new_dirs, new_cache)
    if args.override_by_exclusion:
        # Keep only the highest EVR of each name (copr.overriding_by_exclusions).
        best = {}
        for pkg in hawkey.Query(new_sack):
            cur = best.get(pkg.name)
            if cur is None or new_sack.evr_cmp(pkg.evr, cur) > 0:
                best[pkg.name] = pkg.evr
        lower = [p for p in hawkey.Query(new_sack) if new_sack.evr_cmp(p.evr, best[p.name]) != 0]
        if lower:
            new_sack.add_excludes(lower)
    old_group = ref.read_group(args.old_repo, "build")
    new_group = ref.read_group(new_dirs[0], "build")
    for name, evr, brs in ref.read_sources(args.sources):
        o_res, o_prob, o_inst = ref.run_goal(old_sack, brs, old_group, args.ignore_weak_deps)
        n_res, n_prob, n_inst = ref.run_goal(new_sack, brs, new_group, args.ignore_weak_deps)
        if o_res and not n_res:
            status = "broken"
        elif n_res and not o_res:
            status = "fixed"
        elif not o_res:
            status = "still-broken"
        elif o_inst != n_inst:
            status = "changed"
        else:
            status = "unchanged"
        names = {split(n)[0] for n in n_inst}
        ch = changes(o_inst, n_inst, distances(new_sack, brs, names) if n_inst else {})
        prio = int(sum(256 / (c["distance"] or 8) for c in ch))
        print(json.dumps({
            "name": name, "evr": evr, "status": status,
            "old": {"resolved": o_res, "problems": o_prob},
            "new": {"resolved": n_res, "problems": n_prob},
            "changes": ch, "dependency_priority": prio,
        }, sort_keys=True))


if __name__ == "__main__":
    main()
