"""fer_keras/evaluation/predictions.py: model outputs as a predictions table, test-time flip, name fields."""

import keras
import numpy as np
import pandas as pd

from fer_keras.evaluation.predictions import predict_probabilities, predictions_frame, with_name_fields


def left_right_model():
    """Probability of class 0 = mean brightness of the image's left half (so mirroring changes it)."""
    inputs = keras.Input((4, 4, 1))
    left = keras.layers.Lambda(lambda x: x[:, :, :2, :])(inputs)
    p = keras.layers.GlobalAveragePooling2D()(left)
    return keras.Model(inputs, keras.layers.Concatenate()([p, 1 - p]))


def test_flip_averages_with_the_mirrored_image():
    image = np.zeros((1, 4, 4, 1), np.uint8)
    image[..., :2, :] = 1  # bright left half
    model = left_right_model()
    plain = predict_probabilities(model, image, np.array([0]), batch_size=1)
    flipped = predict_probabilities(model, image, np.array([0]), batch_size=1, flip=True)
    assert np.allclose(plain, [[1.0, 0.0]]) and np.allclose(flipped, [[0.5, 0.5]])


def test_predictions_frame_columns_and_correctness():
    table = pd.DataFrame({"path": ["a.png", "b.png", "c.png"], "subject": ["s1", "s2", "s3"], "dataset": "x"})
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8]])
    frame = predictions_frame(table, np.array([0, 2]), np.array([0, 0]), probabilities, ["happiness", "sadness"],
                              fold=1, test_set="x", variant="scratch")
    assert list(frame.columns) == ["fold", "test_set", "variant", "method", "model", "key", "subject", "true",
                                   "predicted", "correct", "prob_happiness", "prob_sadness"]
    assert frame["key"].tolist() == ["a.png", "c.png"] and frame["subject"].tolist() == ["s1", "s3"]
    assert frame["predicted"].tolist() == ["happiness", "sadness"] and frame["correct"].tolist() == [True, False]


def test_old_tables_read_with_empty_name_fields():
    old = pd.DataFrame({"fold": [0], "test_set": ["jaffe"], "key": ["k"], "true": ["anger"]})
    read = with_name_fields(old)
    assert list(read.columns[:5]) == ["fold", "test_set", "variant", "method", "model"]
    assert read.loc[0, ["variant", "method", "model"]].tolist() == ["", "", ""]
