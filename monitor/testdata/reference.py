"""Reference values for the monitor package's tests.

Run with Debian's SciPy (apt-get install python3-scipy, giving scipy 1.10.1
and numpy 1.24.2):

    /usr/bin/python3 monitor/testdata/reference.py

It writes the samples to monitor/testdata/samples.json (which the Go tests
read) and prints the values that monitor/reference_test.go hard-codes.
The Go tests do not run it. Notes on the calls:

  - ks_2samp is called with method="asymp". Its p-value is
    kstwo.sf(D, round(n*m/(n+m))), the exact one-sample distribution at the
    effective size; monitor reports the limiting Kolmogorov distribution,
    kstwobign.sf(sqrt(n*m/(n+m)) * D) (what R's ks.test(exact = FALSE)
    gives), printed as "kstwobign". Both are printed; the tests hold
    monitor to the second tightly and to the first loosely.
  - jensenshannon is called with base=2, so the distance is in [0, 1].
  - chi2_contingency is called with correction=False: monitor applies no
    Yates correction (scipy's default applies it when dof == 1).
"""
import json
import os

import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, kstwobign, wasserstein_distance

print("scipy", scipy.__version__, "numpy", np.__version__)

rng = np.random.default_rng(20011)
samples = {
    # Continuous, no ties: a shift and a wider spread.
    "normal": (rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 500)),
    # Counts with heavy ties.
    "ties": (rng.poisson(3.0, 400).astype(float), rng.poisson(3.4, 250).astype(float)),
    # The monitor's sizes: a 20,000-row reference and a small shift.
    "large": (rng.normal(0, 1, 20000), rng.normal(0.02, 1, 5000)),
    # A constant reference against a window with a few other values.
    "constant": (np.full(50, 7.0), np.concatenate([np.full(40, 7.0), np.full(10, 9.0)])),
}
# Rounded to 6 decimals (a smaller file); the statistics are computed on
# the rounded values, which are what the Go tests read.
samples = {k: (np.round(x, 6), np.round(y, 6)) for k, (x, y) in samples.items()}
out = {k: {"x": [float(v) for v in x], "y": [float(v) for v in y]} for k, (x, y) in samples.items()}
with open(os.path.join(os.path.dirname(__file__), "samples.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))

for name, (x, y) in samples.items():
    r = ks_2samp(x, y, method="asymp")
    n, m = len(x), len(y)
    en = n * m / (n + m)
    print(f"{name}: ks D {r.statistic!r} p(asymp) {r.pvalue!r} "
          f"kstwobign {kstwobign.sf(np.sqrt(en) * r.statistic)!r}")
    print(f"{name}: wasserstein {wasserstein_distance(x, y)!r}")

for lam in [0.2, 0.5, 1.0, 1.18, 1.36, 2.0, 3.0, 5.5]:
    print(f"kstwobign.sf({lam}) = {kstwobign.sf(lam)!r}")

js_cases = {
    "js-shift": ([10, 20, 30, 40], [15, 15, 25, 45]),
    "js-zero-bins": ([10, 20, 30, 0, 40], [15, 15, 25, 5, 0]),
    "js-disjoint": ([1, 0], [0, 1]),
}
for name, (p, q) in js_cases.items():
    print(f"{name}: jensenshannon base 2 {jensenshannon(p, q, base=2)!r}")

chi_cases = {
    "chi-three": ([500, 300, 200], [60, 25, 15]),
    "chi-two": ([900, 100], [80, 20]),
    # A category unseen in training (0 in the first row).
    "chi-unseen": ([400, 350, 250, 0], [30, 35, 20, 15]),
}
for name, (a, b) in chi_cases.items():
    stat, p, dof, _ = chi2_contingency([a, b], correction=False)
    print(f"{name}: chi2 {stat!r} p {p!r} dof {dof}")
