"""fer_keras.reports.explain_run.py: saved Grad-CAM sets of a run and the DICE / IoU comparisons between them."""

import keras
import numpy as np
import pytest

from fer_keras.config import GradcamConfig
from fer_keras.reports.explain_run import comparisons, explain_set, face_mask, load_maps, slug
from fer_keras.models import build_model

SIZE = 8


def block(top: int, left: int, height: int = 4, width: int = 4) -> np.ndarray:
    """A SIZE x SIZE map that is 1 on one rectangle and 0 elsewhere."""
    cam = np.zeros((SIZE, SIZE), "float32")
    cam[top:top + height, left:left + width] = 1.0
    return cam


def save_set(folder, file_stem: str, maps: dict, **stored) -> None:
    """A hand-made ``gradcam_<stem>.npz`` as explain_set writes it (``stored``: name fields, or an old ``name``)."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"gradcam_{file_stem}.npz", **stored, classes=np.array(list(maps)),
             maps=np.stack(list(maps.values())), images=np.zeros((len(maps), SIZE, SIZE, 1), "float32"))


def fields(test_set: str, variant: str = "") -> dict:
    return {"test_set": test_set, "variant": variant, "method": "", "model": ""}


def test_slug_makes_file_name_safe_lowercase_names():
    assert slug("ckplus · fine-tuned") == "ckplus___fine_tuned"
    assert slug("Other faces (val)") == "other_faces__val"
    assert slug("jaffe") == "jaffe"


def test_explain_set_saves_name_fields_class_means_and_figure(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model("simple_cnn", (32, 32, 1), 3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (9, 32, 32, 1)).astype("uint8")
    label_ids = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0])  # class "c" has no image
    config = GradcamConfig(max_images=6)
    path = explain_set(model, images, label_ids, ["a", "b", "c"], "jaffe", config, tmp_path, seed=1,
                       variant="fine-tuned")
    assert path == tmp_path / "gradcam_jaffe___fine_tuned.npz"
    assert (tmp_path / "gradcam_jaffe___fine_tuned.png").stat().st_size > 1000
    saved, maps = load_maps(path)
    assert saved == fields("jaffe", "fine-tuned")
    assert list(maps) == ["a", "b"]  # classes without an image are left out
    for cam in maps.values():
        assert cam.shape == (32, 32) and np.isfinite(cam).all()
    stored = np.load(path)
    assert stored["images"].shape == (2, 32, 32, 1)
    chosen = np.sort(np.random.default_rng(1).permutation(9)[:6])  # the images the maps were averaged over
    np.testing.assert_allclose(stored["images"][0], images[chosen][label_ids[chosen] == 0].mean(axis=0))


def test_explain_set_of_a_plain_run_is_named_by_its_test_set(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model("simple_cnn", (32, 32, 1), 2)
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 1)).astype("uint8")
    path = explain_set(model, images, np.array([0, 1, 0, 1]), ["a", "b"], "Other faces", GradcamConfig(), tmp_path)
    assert path.name == "gradcam_other_faces.npz"
    assert load_maps(path)[0] == fields("Other faces")


def test_load_maps_reads_a_set_saved_with_only_its_name(tmp_path):
    save_set(tmp_path, "ckplus___fine_tuned", {"anger": block(0, 0)}, name="ckplus · fine-tuned")
    saved, maps = load_maps(tmp_path / "gradcam_ckplus___fine_tuned.npz")
    assert saved == fields("ckplus · fine-tuned")  # taken whole as the test set, never split
    np.testing.assert_array_equal(maps["anger"], block(0, 0))


def test_face_mask_is_a_centred_ellipse():
    mask = face_mask((48, 40))
    assert mask.shape == (48, 40) and mask.dtype == bool
    assert mask[25, 20] and not mask[0, 0] and not mask[47, 39] and not mask[25, 0]
    rows, cols = np.nonzero(mask)
    assert cols.mean() == pytest.approx(20, abs=0.5) and rows.mean() == pytest.approx(0.52 * 48, abs=1)
    assert (cols.min(), cols.max()) == (20 - 15, 20 + 15)  # half-width 0.38 x 40
    assert 0.5 < mask.mean() < 0.65  # about pi x 0.38 x 0.46 of the crop


def test_comparisons_between_the_sets_of_one_run(tmp_path):
    run = tmp_path / "run"
    save_set(run, "jaffe", {"anger": block(0, 0), "happiness": block(0, 0), "sadness": block(4, 4)}, **fields("jaffe"))
    save_set(run, "ckplus", {"anger": block(0, 0), "happiness": block(4, 4)}, **fields("ckplus"))
    save_set(run, "other", {"neutral": block(0, 0)}, **fields("other"))  # no class in common: not compared
    table = comparisons(run, GradcamConfig(threshold=0.5))
    assert table.columns.tolist() == ["comparison", "a", "b", "classes", "mean DICE", "mean IoU"]
    assert table.values.tolist() == [["same model, two datasets", "ckplus", "jaffe", 2, 0.5, 0.5]]


def test_comparisons_with_the_face_region(tmp_path):
    run = tmp_path / "run"
    mask = face_mask((SIZE, SIZE))
    save_set(run, "jaffe", {"anger": mask.astype("float32"), "fear": (~mask).astype("float32")}, **fields("jaffe"))
    table = comparisons(run, GradcamConfig(face_mask=True))
    assert table.values.tolist() == [["map vs face region", "jaffe", "face ellipse", 2, 0.5, 0.5]]
    assert comparisons(run, GradcamConfig(face_mask=False)).empty


def test_comparisons_with_another_run_pair_sets_by_display_name(tmp_path):
    run, other, older = tmp_path / "run", tmp_path / "baseline_run", tmp_path / "older_run"
    save_set(run, "jaffe___fine_tuned", {"anger": block(0, 0), "fear": block(0, 0)}, **fields("jaffe", "fine-tuned"))
    save_set(other, "jaffe___fine_tuned", {"anger": block(0, 0), "fear": block(4, 4), "joy": block(0, 0)},
             **fields("jaffe", "fine-tuned"))
    save_set(other, "jaffe___scratch", {"anger": block(0, 0)}, **fields("jaffe", "scratch"))  # not in this run
    save_set(older, "jaffe___fine_tuned", {"anger": block(0, 0), "fear": block(0, 0)}, name="jaffe · fine-tuned")
    table = comparisons(run, GradcamConfig(), [str(other), str(older)])
    assert table.values.tolist() == [
        ["two models, one dataset", "this run · jaffe · fine-tuned", "baseline_run · jaffe · fine-tuned", 2, 0.5, 0.5],
        ["two models, one dataset", "this run · jaffe · fine-tuned", "older_run · jaffe · fine-tuned", 2, 1.0, 1.0],
    ]
    assert comparisons(run, GradcamConfig(), [str(tmp_path / "empty")]).empty


@pytest.mark.parametrize("level, dice, iou", [(0.5, 1.0, 1.0), (0.9, 0.5, 0.333)])
def test_comparisons_threshold_maps_at_the_configured_level(tmp_path, level, dice, iou):
    run = tmp_path / "run"
    graded = block(0, 0, 4, 8)
    graded[:2] = 2.0  # top half of the block is the hot part
    save_set(run, "a", {"anger": graded}, **fields("a"))
    save_set(run, "b", {"anger": block(0, 0, 4, 8) + block(0, 0, 4, 4)}, **fields("b"))
    row = comparisons(run, GradcamConfig(threshold=level)).iloc[0]
    assert (row["mean DICE"], row["mean IoU"]) == (dice, iou)
