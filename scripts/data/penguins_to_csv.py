#!/usr/bin/env python3
"""Convert vega-datasets 3.2.1 data/penguins.json to data/penguins.csv.

Usage (from the repository root, after `npm pack vega-datasets@3.2.1` and
`tar xzf vega-datasets-3.2.1.tgz` in some DIR):

    python3 scripts/data/penguins_to_csv.py DIR/package/data/penguins.json > data/penguins.csv

Only the standard library is used. Column names become snake_case; JSON
null becomes an empty field (a missing value); rows keep their order.
"""
import csv
import json
import sys

COLUMNS = [
    ("Species", "species"),
    ("Island", "island"),
    ("Beak Length (mm)", "beak_length_mm"),
    ("Beak Depth (mm)", "beak_depth_mm"),
    ("Flipper Length (mm)", "flipper_length_mm"),
    ("Body Mass (g)", "body_mass_g"),
    ("Sex", "sex"),
]


def main(path):
    with open(path) as f:
        rows = json.load(f)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow([new for _, new in COLUMNS])
    for r in rows:
        w.writerow(["" if r.get(old) is None else r[old] for old, _ in COLUMNS])


if __name__ == "__main__":
    main(sys.argv[1])
