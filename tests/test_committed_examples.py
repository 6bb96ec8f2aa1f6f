"""The example reports committed under reports/examples/: complete, and free of dataset faces.

The real datasets' licences forbid redistributing their images, so an example made from one holds
no figure of its faces (emotion analysis, Grad-CAM overlays), no stored sample images and no model.
"""

import re
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "reports" / "examples"
#: Files that hold or show dataset images, or a model trained on them.
FACE_OR_MODEL = re.compile(r"(emotion_analysis.*|gradcam_.*|samples\.npz|.*\.keras|.*\.h5|.*\.tflite)$")
FOLDERS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())


def dataset_of(folder: Path) -> str | None:
    config = folder / "config.yaml"
    return yaml.safe_load(config.read_text())["data"]["dataset"] if config.exists() else None


def test_there_are_examples_from_the_real_datasets():
    assert {"fer2013", "jaffe", "ckplus"} <= {dataset_of(folder) for folder in FOLDERS}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_example_links_only_files_it_holds(folder):
    for report in folder.glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+)\)", report.read_text()):
            if "://" not in target and not target.startswith(".."):
                assert (folder / target).exists(), f"{report.name} links {target}, which is not committed"


@pytest.mark.parametrize("folder", [f for f in FOLDERS if dataset_of(f) not in (None, "synthetic")],
                         ids=lambda p: p.name)
def test_example_from_a_real_dataset_holds_no_face_and_no_model(folder):
    held = [p.name for p in folder.rglob("*") if FACE_OR_MODEL.match(p.name)]
    assert held == [], f"{folder.name} holds {held}"
    assert yaml.safe_load((folder / "config.yaml").read_text())["report"]["sample_faces"] is False
