"""Reference coefficients for train/ridge's TestMatchesScikitLearn.

Run with Debian's scikit-learn (apt-get install python3-sklearn, giving
sklearn 1.2.1 and numpy 1.24.2), from the repository root:

    /usr/bin/python3 train/ridge/testdata/reference.py

It reads data/penguins.csv, keeps the 342 birds with a body mass, and
writes two files beside this script:

  - design.csv: the design in the form mlpipe's features.Matrix holds it:
    three numeric columns (beak length and depth, flipper length, raw
    millimetres: their means of 17-200 test that the fit centres them)
    and two categorical columns as codes (island: 1 Biscoe, 2 Dream,
    3 Torgersen; sex: 1 FEMALE, 2 MALE, 0 for empty or "."), then the
    target, body mass in grams.
  - reference.json: for each alpha, scikit-learn Ridge's intercept and
    coefficients on the one-hot design (each categorical column expanded
    into one indicator per code, code 0 included, as train/ridge reads
    it), in the design's feature order.

The Go test does not run it.
"""
import csv
import json
import os

import numpy as np
from sklearn import __version__
from sklearn.linear_model import Ridge

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "../../../data/penguins.csv"))))
rows = [r for r in rows if r["body_mass_g"] not in ("", "NA")]
islands = {"Biscoe": 1, "Dream": 2, "Torgersen": 3}
sexes = {"FEMALE": 1, "MALE": 2}

numeric = np.array([[float(r[c]) for c in ("beak_length_mm", "beak_depth_mm", "flipper_length_mm")] for r in rows])
island = np.array([islands[r["island"]] for r in rows])
sex = np.array([sexes.get(r["sex"], 0) for r in rows])
y = np.array([float(r["body_mass_g"]) for r in rows])

with open(os.path.join(here, "design.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "island", "sex", "body_mass_g"])
    for i in range(len(rows)):
        w.writerow([repr(v) for v in numeric[i]] + [island[i], sex[i], repr(y[i])])


def onehot(codes, card):
    out = np.zeros((len(codes), card))
    out[np.arange(len(codes)), codes] = 1
    return out


X = np.hstack([numeric, onehot(island, 4), onehot(sex, 3)])
ref = {"sklearn": __version__, "numpy": np.__version__, "fits": []}
for alpha in (0.1, 1.0, 100.0):
    m = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
    ref["fits"].append({"alpha": alpha, "intercept": float(m.intercept_), "coef": [float(c) for c in m.coef_]})
with open(os.path.join(here, "reference.json"), "w") as f:
    json.dump(ref, f, indent=1)
    f.write("\n")
print("wrote", len(rows), "rows; sklearn", __version__, "numpy", np.__version__)
