"""The packaged paper configs: valid, naming registered models and readers, carrying papers.md's numbers.

Nothing is trained here; models are only built (weights null, small inputs where the
architecture allows) to show each config's model section is accepted by its builder.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import pytest

from fer_keras.config import ExperimentConfig, load_config, packaged_configs

REPO = Path(__file__).resolve().parents[1]
PAPERS_MD = REPO.parent / "shared" / "papers.md"
REPRODUCE_MD = REPO / "docs" / "reproduce.md"

CONFIGS = packaged_configs()
#: Configs meant to be run (bases start with an underscore and only serve ``extends``).
RUNNABLE = [name for name in CONFIGS if not name.startswith("_")]
#: Configs that reproduce no paper: users' own data, the bundled model's recipe, the detector comparison.
OWN_DATA = ["finetune_own_folder.yaml", "fer2013_bundled.yaml", "fer2013_bundled_posed.yaml", "jaffe_cnn2_loso.yaml"]
#: Paper configs: runnable configs on real data (synthetic smoke configs, the quickstart and own-data configs excluded).
PAPER = [name for name in RUNNABLE if load_config(name).data.dataset != "synthetic" and name not in OWN_DATA]

#: Spot checks, written out by hand from papers.md: (config, dotted key in report.paper, value).
SPOT_CHECKS = [
    ("jaffe_mobilenet.yaml", "accuracy", 85.54),
    ("jaffe_mobilenet.yaml", "per_class_accuracy.disgust", 54.6),
    ("oulu_vgg16_base_imagenet.yaml", "accuracy.oulu_casia", 99.49),
    ("oulu_vgg16_base_imagenet.yaml", "accuracy_sd.oulu_casia", 0.17),
    ("oulu_vgg16_cbam_scratch.yaml", "accuracy.jaffe", 33.56),
    ("oulu_vgg16_se_imagenet.yaml", "accuracy_sd.faces", 6.40),
    ("kdef_vgg16_full.yaml", "accuracy", 93.47),
    ("kdef_vgg16_scratch.yaml", "accuracy", 23.35),
    ("kdef_resnet50_full.yaml", "accuracy", 97.55),
    ("kdef_cnn2_128.yaml", "accuracy", 80.81),
    ("ckplus_model2_transfer.yaml", "accuracy.ckplus · fine-tuned", 68.81),
    ("ckplus_model1_transfer.yaml", "accuracy.ckplus · scratch", 46.89),
    ("jaffe_model3_transfer.yaml", "accuracy.jaffe · fine-tuned", 65.12),
    ("fer2013_ensemble.yaml", "accuracy.fer2013_model2 · fer2013", 61.58),
]


def paper_numbers(paper: dict) -> list[float]:
    """Every number of a ``report.paper`` block (accuracy, SD, per-class, range)."""
    found = []
    for key, value in paper.items():
        if key == "source":
            continue
        values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        found += [float(v) for v in values]
    return found


def expected_test_sets(config: ExperimentConfig) -> set[str]:
    """The test-set names a run of ``config`` writes (what a paper block can target)."""
    if config.ensemble is not None:
        members = [Path(member).parent.name for member in config.ensemble.members]  # reports/<experiment>/run
        label = config.data.label
        return {f"ensemble · {label}"} | {f"{member} · {label}" for member in members}
    names = {config.data.label} | {data.label for data in config.test_datasets}
    if config.transfer is not None:
        suffixes = [" · fine-tuned"] + ([" · scratch"] if config.transfer.compare_scratch else [])
        names = {name + suffix for name in names for suffix in suffixes}
    return names


def num_classes(config: ExperimentConfig) -> int:
    """Classes the model is built for (the data's class view; 7 when taken as found)."""
    classes = config.data.classes
    if classes is None:
        return 7
    return {"6": 6, "7": 7, "8": 8}[classes] if isinstance(classes, str) else len(classes)


@pytest.mark.parametrize("name", CONFIGS)
def test_every_packaged_config_validates(name):
    config = load_config(name)
    assert isinstance(config, ExperimentConfig)
    if not name.startswith("_"):
        assert config.experiment == Path(name).stem  # run directories are named after the file


def test_paper_configs_cover_the_four_papers():
    assert len(PAPER) >= 34
    for prefix in ("oulu_vgg16_", "jaffe_mobilenet", "ckplus_model", "jaffe_model", "kdef_vgg16_", "kdef_cnn2_"):
        assert any(name.startswith(prefix) for name in PAPER), prefix
    assert {f"oulu_vgg16_{a}_{w}.yaml" for a in ("base", "se", "cbam") for w in ("imagenet", "scratch")} <= set(PAPER)


@pytest.mark.parametrize("name", PAPER)
def test_paper_config_has_paper_block_with_source_and_number(name):
    paper = load_config(name).report.paper
    assert isinstance(paper.get("source"), str) and len(paper["source"]) > 10
    if "accuracy" not in paper:  # only where the paper gives a range, and the source says so
        assert "no single number" in paper["source"] and len(paper["accuracy_range"]) == 2
    assert paper_numbers(paper), "paper block holds no number"


@pytest.mark.parametrize("name", RUNNABLE)
def test_paper_block_targets_test_sets_the_run_produces(name):
    config = load_config(name)
    paper = config.report.paper
    for key in ("accuracy", "accuracy_sd"):
        if isinstance(paper.get(key), dict):
            assert set(paper[key]) <= expected_test_sets(config), (key, sorted(expected_test_sets(config)))
    for class_name in paper.get("per_class_accuracy") or {}:
        assert class_name in {"anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"}


@pytest.mark.parametrize("name", RUNNABLE)
def test_model_and_dataset_names_are_registered(name):
    from fer_keras.data.registry import reader_names
    from fer_keras.models import model_names

    config = load_config(name)
    assert config.model.name in model_names()
    datasets = [config.data] + list(config.test_datasets) + ([config.transfer.source] if config.transfer else [])
    assert {data.dataset for data in datasets} <= set(reader_names())


@pytest.mark.parametrize("name", RUNNABLE)
def test_model_and_reader_options_are_accepted(name):
    """Every option name reaches a parameter of its builder / reader (checked without building)."""
    from fer_keras.data import registry as data_registry
    from fer_keras.models import registry as model_registry
    from fer_keras.options import unknown_options

    config = load_config(name)
    builder = model_registry.model_spec(config.model.name).builder
    assert unknown_options(builder, config.model.options)[0] == []
    datasets = [config.data] + list(config.test_datasets) + ([config.transfer.source] if config.transfer else [])
    for data in datasets:
        reader = data_registry._READERS[data.dataset]
        assert unknown_options(reader, data.options, fixed=("root",))[0] == [], data.dataset


def test_ensemble_members_are_runs_of_packaged_configs():
    for name in RUNNABLE:
        config = load_config(name)
        if config.ensemble is None:
            continue
        for member in config.ensemble.members:
            assert f"{Path(member).parent.name}.yaml" in CONFIGS, member


@pytest.mark.parametrize("name", [n for n in RUNNABLE if load_config(n).transfer is not None])
def test_transfer_source_feeds_the_target_model(name):
    config = load_config(name)
    source = config.transfer.source
    assert tuple(source.image_size) == tuple(config.data.image_size)
    assert source.color_mode == config.data.color_mode


@pytest.mark.parametrize("name, dotted, value", SPOT_CHECKS)
def test_paper_numbers_spot_checks(name, dotted, value):
    node = load_config(name).report.paper
    head, _, rest = dotted.partition(".")
    node = node[head]
    if rest:
        node = node[rest]
    assert float(node) == pytest.approx(value)


def test_every_paper_number_appears_in_papers_md():
    if not PAPERS_MD.is_file():
        pytest.skip("../shared/papers.md is absent")
    in_papers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", PAPERS_MD.read_text().replace(",", ""))}
    for name in PAPER:
        missing = [n for n in paper_numbers(load_config(name).report.paper) if n not in in_papers]
        assert not missing, f"{name}: {missing} not in papers.md"


def test_paper_numbers_match_papers_md_table_a():
    """The six attention configs carry table A of papers.md cell for cell."""
    if not PAPERS_MD.is_file():
        pytest.skip("../shared/papers.md is absent")
    text = PAPERS_MD.read_text()
    columns = ["imagenet_se", "imagenet_cbam", "imagenet_base", "scratch_se", "scratch_cbam", "scratch_base"]
    rows = {"Oulu-CASIA (val folds)": "oulu_casia", "FACES": "faces", "JAFFE": "jaffe"}
    for row_title, test_set in rows.items():
        line = next(line for line in text.splitlines() if line.startswith(f"| {row_title} |") and "±" in line)
        cells = [cell.strip() for cell in line.strip("|").split("|")[1:]]
        for column, cell in zip(columns, cells):
            weights, attention = column.split("_")
            mean, sd = (float(v) for v in cell.split("±"))
            paper = load_config(f"oulu_vgg16_{attention}_{weights}.yaml").report.paper
            assert paper["accuracy"][test_set] == pytest.approx(mean)
            assert paper["accuracy_sd"][test_set] == pytest.approx(sd)


def test_reproduce_doc_lists_existing_configs_and_every_runnable_one():
    text = REPRODUCE_MD.read_text()
    listed = set(re.findall(r"`([A-Za-z0-9_.-]+\.yaml)`", text))
    assert listed, "docs/reproduce.md names no config"
    assert listed <= set(CONFIGS), sorted(listed - set(CONFIGS))
    assert set(RUNNABLE) <= listed, sorted(set(RUNNABLE) - listed)


def test_synthetic_swap_of_the_mobilenet_config_validates():
    config = load_config("jaffe_mobilenet.yaml", [
        "data.dataset=synthetic", "model.weights=null", "augmentation.balance_target=700",
        "training.epochs=1", "data.image_size=[96,96]",
    ])
    assert config.data.dataset == "synthetic" and config.model.weights is None
    assert config.augmentation.balance == "total" and config.augmentation.balance_target == 700


# --------------------------------------------------------------------------- models build

#: Models cheap enough to build in the default run; the keras.applications / ResNet backbones
#: take seconds each (their options are still checked by ``test_model_and_reader_options_are_accepted``).
FAST_MODELS = ("custom_cnn", "simple_cnn", "vgg16_base", "vgg16_se", "vgg16_cbam", "mobilenet_v2")


def _distinct_model_configs() -> list:
    """One runnable config per distinct (model, options, input size for size-dependent models)."""
    chosen, seen = [], set()
    for name in RUNNABLE:
        config = load_config(name)
        if config.ensemble is not None:
            continue
        sized = config.model.name.startswith(("custom_cnn", "simple_cnn"))
        key = (config.model.name, repr(sorted(config.model.options.items())), tuple(config.data.image_size) if sized else None)
        if key in seen:
            continue
        seen.add(key)
        marks = [] if config.model.name.startswith(FAST_MODELS) else [pytest.mark.slow]
        chosen.append(pytest.param(name, marks=marks, id=name))
    return chosen


@pytest.mark.parametrize("name", _distinct_model_configs())
def test_model_builds_from_config_model_section(name):
    import keras

    from fer_keras.models import build_model

    config = load_config(name)
    channels = 3 if config.data.color_mode == "rgb" else 1
    if config.model.name.startswith(("custom_cnn", "simple_cnn")):
        size = tuple(config.data.image_size)  # their heads depend on the input size: build the real one
    else:
        size = (75, 75) if config.model.name == "inception_v3" else (32, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # frozen randomly initialised backbone (weights null here)
        model = build_model(config.model.name, (*size, channels), num_classes(config), **config.model.options)
    try:
        assert model.output_shape == (None, num_classes(config))
    finally:
        del model
        keras.backend.clear_session()


def test_kdef_vgg16_fine_tune_configs_train_more_and_more_weights():
    import keras

    from fer_keras.models import build_model

    trainable = {}
    for mode in ("head", "head_plus_last_block", "full", "scratch"):
        config = load_config(f"kdef_vgg16_{mode}.yaml")
        assert config.model.options["fine_tune"] == mode
        assert config.model.weights == (None if mode == "scratch" else "imagenet")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build_model(config.model.name, (32, 32, 3), 7, **config.model.options)
        trainable[mode] = sum(math.prod(w.shape) for w in model.trainable_weights)
        keras.backend.clear_session()
    assert trainable["head"] == 512 * 7 + 7
    assert trainable["head"] < trainable["head_plus_last_block"] < trainable["full"] == trainable["scratch"]


def test_shipped_files_name_papers_not_the_developers_notes():
    """Configs and modules reach users, who have no papers.md: they cite the paper itself."""
    shipped = [p for p in (REPO / "fer_keras").rglob("*") if p.suffix in {".py", ".yaml"}]
    assert any(p.name == "fer2013_model1.yaml" for p in shipped)
    citing_notes = [str(p.relative_to(REPO)) for p in shipped if "papers.md" in p.read_text()]
    assert not citing_notes
    assert "Borgalli and Surve 2022" in load_config("jaffe_model2_transfer.yaml").report.paper["source"]
