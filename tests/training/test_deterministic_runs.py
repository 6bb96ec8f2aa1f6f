"""``runtime.deterministic: true``: two runs of one config and seed train the same weights, bit for bit.

The training part (some 500 images) spans two augmentation chunks of 256, so the chunks' order counts. Op
determinism is switched on for the whole process and cannot be switched off, so the runs happen in a child
process, away from the rest of the suite.
"""

import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import json, sys
    import keras, numpy as np
    from fer_keras.config import load_config
    from fer_keras.training.experiment import run_experiment

    raw = json.loads(sys.argv[1])
    weights = []
    for name in ("a", "b"):
        run = run_experiment(load_config(raw), run_dir=sys.argv[2] + "/" + name)
        model = keras.saving.load_model(run / "model_fold0.keras", safe_mode=False)
        weights.append(model.get_weights())
    same = all(np.array_equal(x, y) for x, y in zip(*weights))
    print(json.dumps({"same": same, "arrays": len(weights[0])}))
""")

TINY = {
    "seed": 5,
    "data": {"dataset": "synthetic", "options": {"n_subjects": 8, "images_per_class": 12, "image_size": 48},
             "image_size": [48, 48]},
    "split": {"kind": "holdout", "test_fraction": 0.25, "val_fraction": 0.0},
    "augmentation": {"enabled": True, "flip": True, "rotation": 10, "zoom": 0.1, "balance": "per_class"},
    "model": {"name": "simple_cnn", "options": {"filters": [4, 8], "dense_units": 8}},
    "training": {"epochs": 2, "batch_size": 8},
    "report": {"sample_predictions": 0},
    "runtime": {"verbose": 0, "deterministic": True},
}


def test_two_deterministic_runs_of_one_seed_train_the_same_weights(tmp_path):
    child = subprocess.run([sys.executable, "-c", CHILD, json.dumps(TINY), str(tmp_path)],
                           capture_output=True, text=True, timeout=600)
    assert child.returncode == 0, child.stderr[-2000:]
    answer = json.loads(child.stdout.strip().splitlines()[-1])
    assert answer["arrays"] > 0 and answer["same"], "runtime.deterministic runs of one seed trained different weights"
