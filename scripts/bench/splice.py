#!/usr/bin/env python3
"""scripts/bench/splice.py DOC SECTION.md [RAW.md] --note TEXT

Put a section that one of make bench's section scripts wrote alone into
BENCHMARKS.md (DOC) in place of the old one: section.sh's last step.

SECTION.md begins with a "## " heading and may hold more of them; each of
those headings' old text in DOC (from the heading to the next "## ") is
removed, and SECTION.md goes where the first of them was, with TEXT (when,
at which revision and by which command it was measured) after its first
heading. A section DOC does not have yet goes before "## Raw output".

RAW.md holds the section's raw outputs as <details> blocks. The old blocks
with the same <summary> lines are removed from DOC's raw output and the new
ones appended at its end (a block whose summary line changed stays).
"""

import argparse
import re
import sys

HEADING = re.compile(r"^## ")


def chunks(lines):
    """Split lines into [(heading or None, lines)] at every "## " line."""
    out = [(None, [])]
    for line in lines:
        if HEADING.match(line):
            out.append((line.rstrip("\n"), [line]))
        else:
            out[-1][1].append(line)
    return out


def details(lines):
    """Split raw-output lines into blocks: (summary line or None, lines)."""
    out, cur = [], None
    for line in lines:
        if line.startswith("<details>"):
            cur = (line.rstrip("\n"), [line])
            out.append(cur)
        elif cur is not None:
            cur[1].append(line)
            if line.startswith("</details>"):
                cur = None
        else:
            out.append((None, [line]))
    return out


def between_blocks(lines):
    """lines with runs of blank lines between <details> blocks cut to one,
    and a blank line before every block: the blank lines around a removed
    block would otherwise pile up, run after run. The blocks' own lines are
    kept as they are."""
    out = []
    for summary, ls in details(lines):
        if summary is None and not ls[0].strip():
            if out and out[-1].strip():
                out.append("\n")
            continue
        if summary is not None and out and out[-1].strip():
            out.append("\n")
        out += ls
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("doc")
    ap.add_argument("section")
    ap.add_argument("raw", nargs="?")
    ap.add_argument("--note", required=True)
    a = ap.parse_args()

    with open(a.doc) as f:
        doc = chunks(f.readlines())
    with open(a.section) as f:
        new = f.readlines()
    if not new or not HEADING.match(new[0]):
        sys.exit(f"splice: {a.section} does not begin with a '## ' heading")
    heads = {c[0] for c in chunks(new) if c[0]}
    new = [new[0], "\n", a.note.rstrip("\n") + "\n"] + new[1:]
    if new[-1].strip():
        new.append("\n")

    out, placed = [], False
    for head, lines in doc:
        if head in heads:
            if not placed:
                out.append((head, new))
                placed = True
            continue
        if head == "## Raw output" and not placed:
            out.append((None, new))
            placed = True
        out.append((head, lines))
    if not placed:
        out.append((None, new))

    if a.raw:
        with open(a.raw) as f:
            raw = details(f.readlines())
        summaries = {s for s, _ in raw if s}
        for i, (head, lines) in enumerate(out):
            if head != "## Raw output":
                continue
            kept = [b for b in details(lines) if b[0] not in summaries]
            body = between_blocks([l for _, ls in kept + raw for l in ls])
            out[i] = (head, body)
            break
        else:
            sys.exit("splice: the document has no '## Raw output' section")

    with open(a.doc, "w") as f:
        f.writelines(l for _, ls in out for l in ls)


if __name__ == "__main__":
    main()
