"""Reference values for the calibrate package's tests.

Run with Debian's scikit-learn (python3-sklearn 1.2.1, numpy 1.24.2):

    /usr/bin/python3 calibrate/testdata/reference.py

It writes the samples to calibrate/testdata/samples.json (which the Go
tests read) and the fitted maps' predictions on a grid of scores, which
calibrate/reference_test.go compares with its own. The Go tests do not
run it.

  - Isotonic: IsotonicRegression(out_of_bounds="clip"), as
    CalibratedClassifierCV(method="isotonic") uses it.
  - Platt: sklearn.calibration._sigmoid_calibration on the scores'
    log-odds (the model's margin), which returns A and B of
    p = 1 / (1 + exp(A f + B)).
"""
import json
import os

import numpy as np
import sklearn
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression

print("sklearn", sklearn.__version__, "numpy", np.__version__)

rng = np.random.default_rng(2201)


def sample(n, ties):
    # A model that is over-confident: the true probability is a flattened
    # version of its score.
    s = rng.beta(2, 5, n)
    if ties:
        s = np.round(s, 2)  # many equal scores
    p = 0.1 + 0.6 * s
    y = (rng.random(n) < p).astype(float)
    return s, y


samples = {"continuous": sample(3000, False), "ties": sample(2000, True), "small": sample(200, False)}
grid = np.concatenate([[-0.5, 0.0], np.linspace(0.001, 0.999, 41), [1.0, 1.5]])
out = {"grid": grid.tolist(), "samples": {}}
for name, (s, y) in samples.items():
    iso = IsotonicRegression(out_of_bounds="clip").fit(s, y)
    f = np.log(np.clip(s, 1e-15, 1 - 1e-15) / (1 - np.clip(s, 1e-15, 1 - 1e-15)))
    a, b = _sigmoid_calibration(f, y)
    out["samples"][name] = {
        "scores": s.tolist(),
        "labels": y.tolist(),
        "isotonic": iso.predict(grid).tolist(),
        "isotonic_points": len(iso.X_thresholds_),
        "platt_a": float(a),
        "platt_b": float(b),
    }
    print(name, "isotonic points", len(iso.X_thresholds_), "platt", a, b)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples.json")
with open(path, "w") as fh:
    json.dump(out, fh)
print("wrote", path)
