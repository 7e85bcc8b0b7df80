#!/usr/bin/env python3
"""scripts/bench/buildtime.py ACTIONS.json DEPS.json: where a cold build's
time goes. ACTIONS is `go build -debug-actiongraph` of one binary, DEPS
`go list -deps -json` of it. Prints Markdown: the compile time summed per
module (the CPU the compiler spent on that module's packages, which run
in parallel, so the sum exceeds the wall time), the link time, and for
each of the heaviest modules the project's packages that bring it in."""
import json
import sys
from collections import defaultdict
from datetime import datetime


def ts(s):
    # Go writes nanoseconds; Python's fromisoformat takes microseconds.
    head, frac = s.rstrip("Z").split(".") if "." in s else (s.rstrip("Z"), "0")
    return datetime.fromisoformat(head).timestamp() + float("0." + frac)


def main(actions_path, deps_path):
    actions = json.load(open(actions_path))
    dec = json.JSONDecoder()
    text, pos, pkgs = open(deps_path).read(), 0, {}
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        p, pos = dec.raw_decode(text, pos)
        pkgs[p["ImportPath"]] = p
    module = lambda path: (pkgs.get(path, {}).get("Module") or {}).get("Path", "std")
    per_module, link = defaultdict(float), 0.0
    for a in actions:
        if not a.get("TimeStart") or not a.get("TimeDone"):
            continue
        d = ts(a["TimeDone"]) - ts(a["TimeStart"])
        if a["Mode"] == "build":
            per_module[module(a["Package"])] += d
        elif a["Mode"] == "link":
            link += d
    total = sum(per_module.values())
    own = "github.com/mlpipe/mlpipe"
    # Which of our packages import each module (directly or through an
    # outside package they import).
    brought = defaultdict(set)
    for path, p in pkgs.items():
        if module(path) != own:
            continue
        for imp in p.get("Imports", []):
            if module(imp) in (own, "std"):
                continue
            for dep in [imp] + pkgs.get(imp, {}).get("Deps", []):
                m = module(dep)
                if m not in (own, "std"):
                    brought[m].add(path.replace(own + "/", ""))
    print(f"| module | packages | compile actions, summed | share | brought in by |")
    print("|---|---|---|---|---|")
    count = defaultdict(int)
    for path in pkgs:
        count[module(path)] += 1
    for m, d in sorted(per_module.items(), key=lambda kv: -kv[1])[:10]:
        by = ", ".join(sorted(brought.get(m, [])))
        if len(by) > 120:
            by = by[:117] + "..."
        print(f"| {m} | {count[m]} | {d:.1f} s | {100 * d / total:.0f}% | {by or '—'} |")
    print(f"| (all {len(per_module)} modules, std included) | {len(pkgs)} | {total:.1f} s | 100% | |")
    print()
    print(f"Link: {link:.1f} s.")


if __name__ == "__main__":
    main(*sys.argv[1:3])
