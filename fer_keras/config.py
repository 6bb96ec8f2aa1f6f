"""An experiment as pydantic models, loaded from YAML.

A config is the whole experiment: data, split, augmentation, model, training, report and
runtime. ``load_config("quickstart.yaml")`` resolves a bare name to the configs shipped
inside the package; ``overrides=["training.epochs=3"]`` changes single keys (values are
parsed as YAML, so ``3`` is an int and ``[48, 48]`` a list). Any mistake — an unknown key,
a wrong type, a missing file — raises :class:`ConfigError` with one line that names the
key and what is allowed.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from fer_keras.errors import ConfigError

#: Why ``runtime.strategy: multi_worker`` stops at validation, before any data is read.
MULTI_WORKER_REFUSED = (
    "multi_worker is not supported: Keras 3's fit fails under tf.distribute.MultiWorkerMirroredStrategy "
    "(keras-team/keras#20585); use mirrored to train on several GPUs of one machine"
)


def expand_home(value):
    """A path given as ``~/…`` (or ``~user/…``) with the home folder filled in; anything else as given.
    YAML and ``--set`` values are not passed through a shell, so ``~`` would otherwise be a folder name."""
    if isinstance(value, str) and value.startswith("~"):
        return os.path.expanduser(value)
    return value


#: A path key of a config: ``~`` is expanded when the config is read.
PathText = Annotated[str, BeforeValidator(expand_home)]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are checked on assignment.

    A YAML ``true``/``false`` is never read as a number (``epochs: true`` is an error, not 1).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value, info):
        annotation = cls.model_fields[info.field_name].annotation
        numeric = {int, float, int | None, float | None}
        if isinstance(value, bool) and annotation in numeric:
            raise ValueError(f"must be a number, not {str(value).lower()}")
        return value


class FaceCropConfig(Section):
    """Detect and crop the face before training; predict crops new images the same way."""

    enabled: bool = Field(False, description="crop every image to its largest detected face")
    detector: Literal["auto", "haar", "mtcnn"] = Field(
        "auto", description="haar: OpenCV's frontal-face cascade (opencv-python-headless<5; the fastest); mtcnn: the "
        "mtcnn package's landmark detector (boxes, confidence, eyes; any OpenCV; finds faces turned 30 degrees that "
        "Haar misses); auto (default): mtcnn when align is set, else haar where this OpenCV ships its cascade, else "
        "mtcnn; chosen when a run starts or a model predicts, so a config means the same on every machine (a run's "
        "config.yaml names the one it used). Times per photo: reports/benchmarks_latency.md")
    first_pass: bool = Field(True, description="mtcnn on photos: first seek only faces of at least a quarter of the "
        "image's short side (3 pyramid levels), and faces down to an eighth only when none is found (about twice as "
        "fast; a small face beside a large one is then not reported); false: always the full search")
    confidence: float = Field(0.9, ge=0.0, le=1.0, description="mtcnn: smallest face confidence accepted")
    align: bool = Field(False, description="rotate and scale each face so the eyes are level at fixed places "
                                           "before cropping (needs detector: mtcnn)")
    margin: Annotated[float, Field(ge=0.0, le=1.0)] | Literal["fer2013"] = Field(
        0.2, description="extra border around the box, as a fraction of its size; fer2013: the border that frames "
                         "a face as FER2013's 48x48 crops do for the detector in use (haar 0.10, mtcnn 0.00)")
    square: bool = Field(True, description="widen the box to a square before cropping")
    min_size: int = Field(20, ge=1, description="smallest face side in pixels")
    cache: bool = Field(True, description="remember detections on disk (runtime.out_dir/.cache)")
    predict: Literal["auto", "detect", "whole_image"] = Field(
        "auto", description="what predict does with a new image: detect faces and crop them as in training, or use the "
        "whole image as the face; auto detects when training cropped faces (enabled) and uses the whole image "
        "otherwise (what the model saw in training); detect suits datasets of face crops (FER2013)")

    @model_validator(mode="after")
    def _check_align(self):
        if self.align and self.detector == "haar":
            raise ValueError("align needs eye landmarks, which only detector: mtcnn gives (auto picks mtcnn with align)")
        return self


class DataConfig(Section):
    """Which dataset, and how its images are turned into model input."""

    name: str | None = Field(None, description="display name in reports (default: the dataset name)")
    dataset: str = Field("synthetic", description="registry name: synthetic, jaffe, fer2013, ckplus, kdef, oulu_casia, faces, folder")
    root: PathText | None = Field(None, description="folder or file the dataset's publisher ships; unused for synthetic")
    options: dict[str, Any] = Field(default_factory=dict, description="reader-specific options (see the reader's docstring)")
    classes: str | list[str] | None = Field(None, description="class view: null (as found), '6', '7', '8', or an explicit list")
    image_size: tuple[int, int] = Field((48, 48), description="model input height, width")
    color_mode: Literal["grayscale", "rgb"] = Field("grayscale", description="channels the model sees (1 or 3)")
    face_crop: FaceCropConfig = Field(default_factory=FaceCropConfig)
    strict: bool = Field(False, description="raise on unreadable images instead of listing them in excluded.csv")

    @field_validator("image_size")
    @classmethod
    def _positive_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 8:
            raise ValueError("image_size must be at least 8x8")
        return value

    @property
    def label(self) -> str:
        """The name reports use for this dataset."""
        return self.name or self.dataset



class ExtraTrainingData(DataConfig):
    """A dataset whose images only ever train: they join the train part of every fold."""

    repeat: int = Field(1, ge=0, le=100, description="how many times each of its images enters the train part "
                        "(weighs a small set against a large one); 0 leaves the set out, unread (a "
                        "leave-one-dataset-out twin: --set train_extra.2.repeat=0)")


class SplitConfig(Section):
    """How samples are divided into train / validation / test (or folds)."""

    kind: Literal["holdout", "official", "kfold"] = Field(
        "holdout", description="holdout by fractions, the dataset's official split (FER2013 Usage), or k-fold"
    )
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0, description="share of all images held out for testing (holdout)")
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="share of all images used for validation (0: none)")
    folds: int = Field(10, ge=2, description="number of folds (kfold)")
    subject_independent: bool = Field(False, description="keep every subject's images in one part only")
    stratify: bool = Field(True, description="keep class proportions equal across parts (subject-independent splits "
                           "always stratify as far as whole subjects allow)")
    protocol: Literal["split_then_augment", "augment_then_split"] = Field(
        "split_then_augment",
        description="augment_then_split reproduces the MobileNetV2 paper: balanced augmented copies are made first, "
        "then split, so copies of one photo land in train and test (the report flags it as leaky)",
    )

    @model_validator(mode="after")
    def _fractions_leave_training_images(self) -> SplitConfig:
        """Validation is carved from what the test part leaves, at most half of it (never silently less)."""
        tested = {"holdout": self.test_fraction, "kfold": 1.0 / self.folds}.get(self.kind)
        if tested is None or self.val_fraction == 0:
            return self
        what = f"test_fraction {self.test_fraction:g}" if self.kind == "holdout" else f"{self.folds} folds"
        if tested + self.val_fraction >= 1.0:
            raise ValueError(f"val_fraction {self.val_fraction:g} and {what} leave no image to train on; "
                             "their sum must be below 1")
        most = (1.0 - tested) / 2
        if self.val_fraction > most + 1e-9:
            raise ValueError(f"val_fraction {self.val_fraction:g} is more than half of what {what} leaves; "
                             f"at most {most:g}")
        return self


class AugmentationConfig(Section):
    """Random transforms applied to training batches (and used for balancing)."""

    enabled: bool = Field(False, description="augment training batches on the fly")
    rotation: float = Field(0.0, ge=0.0, le=180.0, description="max rotation, degrees")
    zoom: float = Field(0.0, ge=0.0, lt=1.0, description="max zoom in/out, fraction")
    shift: float = Field(0.0, ge=0.0, lt=1.0, description="max translation, fraction of size")
    stretch: float = Field(0.0, ge=0.0, lt=1.0, description="max aspect change, fraction")
    crop: float = Field(0.0, ge=0.0, lt=1.0, description="max random crop (zoom in), fraction of size; resized back")
    brightness: float = Field(0.0, ge=0.0, le=1.0, description="max brightness change, fraction of the 0..255 range")
    contrast: float = Field(0.0, ge=0.0, le=1.0, description="max contrast change, fraction")
    flip: bool = Field(False, description="random horizontal flip")
    blur: float = Field(0.0, ge=0.0, le=1.0, description="probability of a Gaussian blur")
    noise: float = Field(0.0, ge=0.0, description="std of additive Gaussian noise, in 0..1 pixel units")
    balance: Literal["none", "per_class", "total"] = Field(
        "none", description="oversample training images by augmentation: none, per_class (each class to a count), total"
    )
    balance_target: int | None = Field(None, ge=1, description="images per class (per_class) or in all (total)")


class ModelConfig(Section):
    """Which architecture, from the model registry."""

    name: str = Field("custom_cnn2", description="model registry name (python -c 'import fer_keras.models as m; print(m.model_names())')")
    options: dict[str, Any] = Field(default_factory=dict, description="builder options (dropout, attention, fine_tune, …)")
    weights: PathText | None = Field(None, description="null (random init), imagenet, or a weights file path")
    init_from: PathText | None = Field(
        None, description="start from a model trained here: a run directory, a .keras file, or pretrained (the bundled "
        "FER2013 model); its head is rebuilt if classes differ"
    )
    test_time_flip: bool = Field(False, description="average each prediction with the mirrored face's (evaluation, "
                                 "predict and the report; twice the model calls)")
    init_fine_tune: Literal["full", "head"] = Field(
        "full", description="with init_from: train every layer (full) or only the classifier head (head)"
    )



class TrainingConfig(Section):
    """The one fit loop's settings."""

    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = Field("adam", description="optimizer")
    learning_rate: float = Field(1e-3, gt=0.0, le=10.0, allow_inf_nan=False, description="learning rate (the peak of "
                                 "a cosine schedule)")
    lr_schedule: Literal["constant", "cosine"] = Field("constant", description="constant, or cosine decay to 0 over "
                                                       "all epochs after warmup_epochs of linear warmup")
    warmup_epochs: int = Field(0, ge=0, description="linear warmup from 0 to learning_rate (cosine schedule)")
    weight_decay: float = Field(0.0, ge=0.0, lt=1.0, description="decoupled weight decay (adamw)")
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0, description="share of each target spread over all classes")
    momentum: float = Field(0.0, ge=0.0, lt=1.0, description="SGD momentum")
    beta_1: float = Field(0.9, gt=0.0, lt=1.0, description="Adam beta 1")
    batch_size: int = Field(32, ge=1, description="global batch size (split across replicas)")
    epochs: int = Field(10, ge=1, description="training epochs")
    loss: Literal["sparse_categorical_crossentropy"] = Field(
        "sparse_categorical_crossentropy", description="loss on integer labels"
    )
    shuffle: bool = Field(True, description="reshuffle training samples every epoch")
    early_stopping_patience: int | None = Field(None, ge=1, description="stop after this many epochs without improvement")
    checkpoint_best: bool = Field(True, description="keep the weights of the best epoch by training.monitor (validation accuracy; training "
                                 "accuracy when there is no validation part)")
    monitor: str = Field("val_accuracy", description="metric for the best checkpoint and early stopping")
    tensorboard: bool = Field(False, description="write TensorBoard logs to <run>/tensorboard")


class GradcamConfig(Section):
    """Grad-CAM maps of the test images, averaged per class, compared by DICE and IoU."""

    enabled: bool = Field(False, description="compute Grad-CAM maps after fold 0")
    method: Literal["gradcam", "gradcam++"] = Field("gradcam", description="tf-keras-vis method")
    layer: str | None = Field(None, description="conv layer name (default: the last conv layer)")
    max_images: int = Field(200, ge=1, description="test images per test set")
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="mask = map >= threshold x its max")
    face_mask: bool = Field(False, description="also compare each class map with a centred elliptical face-region mask")
    compare_runs: list[str] = Field(default_factory=list, description="other run directories whose maps to compare (DICE/IoU)")


class ReportConfig(Section):
    """What the report shows beside the measured numbers."""

    paper: dict[str, Any] = Field(default_factory=dict, description="the paper's numbers, e.g. {accuracy: 61.58, source: ...}")
    html: bool = Field(True, description="also write report.html with figures inline")
    sample_predictions: int = Field(8, ge=0, description="test images shown with probability bars")
    sample_faces: bool = Field(True, description="show figures made of dataset faces (emotion analysis, Grad-CAM "
                               "overlays); false for reports shared publicly when the dataset's licence forbids "
                               "redistributing its images")
    gradcam: GradcamConfig = Field(default_factory=GradcamConfig)


class SourceSplitConfig(SplitConfig):
    """The stage-1 split of a transfer run: the dataset's official split unless another kind is given."""

    kind: Literal["holdout", "official", "kfold"] = Field(
        "official", description="official (the dataset's own split, e.g. FER2013's Usage), holdout by fractions, "
        "or k-fold; official also when the section gives only other keys"
    )


class TransferConfig(Section):
    """Source → target: stage 1 trains on ``source``; stage 2 fine-tunes every layer on the target data."""

    source: DataConfig = Field(description="stage-1 dataset (e.g. fer2013)")
    source_split: SourceSplitConfig = Field(default_factory=SourceSplitConfig, description="stage-1 split")
    source_epochs: int | None = Field(None, ge=1, description="stage-1 epochs (default: training.epochs)")
    source_model: PathText | None = Field(None, description="a finished stage-1 run directory or .keras file: skip stage 1")
    compare_scratch: bool = Field(True, description="also train the same architecture from scratch on the target")



class EnsembleConfig(Section):
    """Average the class probabilities of finished runs evaluated on the same samples."""

    members: list[PathText] = Field(min_length=2, description="run directories")



class BaselinesConfig(Section):
    """Classical scikit-learn baselines on the same folds."""

    enabled: bool = Field(False, description="fit the baselines on every fold beside the model")
    combos: list[tuple[str, str]] = Field(
        default_factory=lambda: [("pixels", "svm"), ("hog", "svm")],
        description="(feature, classifier) pairs; features pixels, hog, lbp; classifiers svm (LinearSVC), logreg, knn",
    )


class RuntimeConfig(Section):
    """Where runs go and how TensorFlow runs them."""

    out_dir: PathText = Field("reports", description="runs go to <out_dir>/<experiment>/<timestamp>/")
    strategy: Literal["auto", "default", "mirrored", "multi_worker"] = Field(
        "auto", description="tf.distribute strategy; auto mirrors over several GPUs on one machine; "
                            "multi_worker is refused (Keras 3's fit fails under it)"
    )
    mixed_precision: Literal["auto", "float32", "mixed_bfloat16", "mixed_float16", "on", "off"] = Field(
        "auto", description="Keras dtype policy (the softmax stays float32); auto: mixed_float16 with a GPU, "
                            "mixed_bfloat16 on a CPU with bfloat16 matrix units (AMX), else float32; "
                            "on/off: older spellings of mixed_float16/float32"
    )
    jit_compile: bool = Field(False, description="XLA-compile the train step")
    deterministic: bool = Field(False, description="deterministic TF ops and one-batch-at-a-time augmentation")
    verbose: int = Field(2, ge=0, le=2, description="Keras fit verbosity")

    @field_validator("strategy")
    @classmethod
    def _no_multi_worker(cls, value: str) -> str:
        if value == "multi_worker":
            raise ValueError(MULTI_WORKER_REFUSED)
        return value



class ExperimentConfig(Section):
    """A whole experiment."""

    experiment: str = Field("experiment", pattern=r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$",
                            description="run name (folder under out_dir; letters, digits, _ - ., not only dots)")
    description: str = Field("", description="one paragraph shown at the top of the report")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="seeds data generation, splits, augmentation and weights")
    data: DataConfig = Field(default_factory=DataConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    augmentation: AugmentationConfig = Field(default_factory=AugmentationConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    test_datasets: list[DataConfig] = Field(
        default_factory=list, description="cross-dataset tests: every fold's model is tested on each, on shared classes"
    )
    train_extra: list[ExtraTrainingData] = Field(
        default_factory=list, description="more training data: each set's images (on the classes it shares with data) "
        "join the train part of every fold, never validation or test"
    )
    transfer: TransferConfig | None = Field(None, description="source → target transfer (see transfer.*)")
    ensemble: EnsembleConfig | None = Field(None, description="average finished runs instead of training")
    baselines: BaselinesConfig = Field(default_factory=BaselinesConfig)

    @model_validator(mode="after")
    def _other_sets_take_the_model_input(self):
        """Test and extra training sets are decoded at the model's input size and colour mode; saying
        otherwise is an error."""
        others = [("test_datasets", self.test_datasets), ("train_extra", self.train_extra)]
        for section, sets in others:
            for k, other in enumerate(sets):
                for key in ("image_size", "color_mode"):
                    mine, theirs = getattr(other, key), getattr(self.data, key)
                    if key in other.model_fields_set and mine != theirs:
                        raise ValueError(f"{section}.{k}.{key} is {mine!r} but the model takes data.{key} "
                                         f"{theirs!r}; it is always decoded like the training data (leave it out)")
                    object.__setattr__(other, key, theirs)
                    other.model_fields_set.add(key)
        return self

    @model_validator(mode="after")
    def _extra_training_sets_stay_out_of_tests(self):
        """A set that trains cannot also test (its accuracy would not be on unseen faces)."""
        if not self.train_extra:
            return self
        tested = {(self.data.dataset, self.data.root): "data"}
        tested |= {(t.dataset, t.root): f"test_datasets.{k}" for k, t in enumerate(self.test_datasets)}
        for k, extra in enumerate(self.train_extra):
            if extra.repeat == 0:
                continue
            where = tested.get((extra.dataset, extra.root))
            if where is not None:
                raise ValueError(f"train_extra.{k} ({extra.dataset} at {extra.root}) is also {where}: a set "
                                 "that trains cannot be tested on or duplicate the main data")
        if self.split.protocol == "augment_then_split":
            raise ValueError("train_extra cannot be combined with split.protocol augment_then_split")
        if self.transfer is not None or self.ensemble is not None:
            raise ValueError("train_extra belongs to a plain training run (not transfer or ensemble)")
        return self

    def to_yaml(self) -> str:
        """The resolved config as YAML (what a run directory stores)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


#: Sections every run's config.yaml has held, in this order, since the first fer_keras.
RUN_SECTIONS = ("data", "split", "augmentation", "model", "training", "report", "runtime")


def load_run_config(path: str | Path) -> ExperimentConfig:
    """A run directory's ``config.yaml``, refused with one line when it is damaged.

    A run stores its config resolved, every section written out (:meth:`ExperimentConfig.to_yaml`),
    so a missing section (a file cut short) is damage, not a default to fill in silently. Keys
    added by later versions may be absent from older runs: those still load.
    """
    path = Path(path)
    config = load_config(path)
    text = path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    missing = [key for key in RUN_SECTIONS if not isinstance(raw, dict) or not isinstance(raw.get(key), dict)]
    if missing or not text.endswith("\n"):
        lacks = f"it lacks {', '.join(missing)}" if missing else "it does not end with a whole line"
        raise ConfigError(f"config error: {path} is damaged (cut short?): {lacks}; restore it, or train the run again")
    return config


def packaged_configs() -> list[str]:
    """Names of the configs shipped inside the package."""
    folder = resources.files("fer_keras") / "configs"
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def resolve_config_path(name: str | Path) -> Path:
    """A path that exists as given, else a packaged config of that name."""
    path = Path(name)
    if path.is_file():
        return path
    if path.parent == Path("."):
        packaged = resources.files("fer_keras") / "configs" / path.name
        if packaged.is_file():
            return Path(str(packaged))
    raise ConfigError(
        f"config {str(name)!r} not found: give a YAML path or one of the packaged configs: "
        + ", ".join(packaged_configs())
    )


def load_config(name: str | Path | dict, overrides: list[str] | None = None) -> ExperimentConfig:
    """Load a config from a path, a packaged name or a dict, apply overrides, validate.

    A config may start with ``extends: other.yaml`` (a path relative to it, or a packaged
    name): it is that config with this file's keys merged over it, section by section.

    >>> config = load_config("quickstart.yaml", ["training.epochs=3"])
    >>> config.model.name, config.training.epochs, config.split.subject_independent
    ('simple_cnn', 3, True)
    """
    raw = dict(name) if isinstance(name, dict) else read_raw(name)
    if "extends" in raw:  # a dict config; a file resolves its own chain in read_raw
        if not isinstance(raw["extends"], str):
            raise ConfigError(f"extends must be a config file name, got {raw['extends']!r}")
        raw = deep_merge(read_raw(raw.pop("extends")), raw)
    for item in overrides or []:
        apply_override(raw, item)
    return validate(raw)


#: Most values a config may hold once its YAML aliases are expanded (a whole config has a few hundred).
MAX_YAML_VALUES = 100_000


class YAMLTooLarge(yaml.YAMLError):
    """A YAML document whose aliases expand to more than :data:`MAX_YAML_VALUES` values ("billion laughs")."""


def expanded_size(node, sizes: dict | None = None) -> int:
    """How many values ``node`` holds with every alias expanded, counted without expanding them."""
    sizes = {} if sizes is None else sizes
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1  # a node that contains itself counts once
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(expanded_size(key, sizes) + expanded_size(value, sizes) for key, value in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(expanded_size(item, sizes) for item in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (YAML would keep the last silently)
    and a document whose aliases expand beyond :data:`MAX_YAML_VALUES` values (checked before building it)."""

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        size = expanded_size(node)
        if size > MAX_YAML_VALUES:
            raise YAMLTooLarge(f"its aliases expand to {size:,} values (a config holds a few hundred; at most "
                               f"{MAX_YAML_VALUES:,}); is it a YAML alias bomb?")
        return self.construct_document(node)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_raw(name: str | Path, seen: tuple[str, ...] = ()) -> dict:
    """The raw mapping of a YAML config, with its own ``extends`` chain resolved."""
    path = resolve_config_path(name)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader) or {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except YAMLTooLarge as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping of sections, got {type(raw).__name__}")
    if "extends" in raw:
        base = raw.pop("extends")
        if not isinstance(base, str):
            raise ConfigError(f"{path}: extends must be a config file name, got {base!r}")
        if str(base) in seen or len(seen) > 10:
            raise ConfigError(f"{path}: extends {base!r} makes a loop")
        nearby = path.parent / base
        raw = deep_merge(read_raw(nearby if nearby.is_file() else base, seen + (str(path),)), raw)
    return raw


def deep_merge(base: dict, update: dict) -> dict:
    """``base`` with ``update`` merged in; nested mappings merge, everything else is replaced."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_override(raw: dict, item: str) -> None:
    """Set ``a.b.c=value`` in a raw config dict (value parsed as YAML); a number picks a list item
    (``test_datasets.0.root=/data/jaffe``)."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like section.key=value")
    dotted, value_text = item.split("=", 1)
    keys = dotted.strip().split(".")
    try:
        value = yaml.safe_load(value_text)
    except yaml.YAMLError:
        value = value_text
    node = raw
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ConfigError(f"override {item!r}: {'.'.join(keys[:depth]) or 'it'} is a list of {len(node)}; "
                                  f"use an index 0..{len(node) - 1}")
            key = int(key)
        if last:
            node[key] = value
            return
        child = node[key] if isinstance(node, list) else node.setdefault(key, {})
        if child is None and isinstance(node, dict):
            child = node[key] = {}
        if not isinstance(child, (dict, list)):
            raise ConfigError(f"override {item!r}: {key!r} is not a section")
        node = child


def validate(raw: dict) -> ExperimentConfig:
    """Validate a raw dict; the first problem becomes one ConfigError line."""
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe_error(error)) from None


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad key and what is allowed there."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    dotted = ".".join(str(part) for part in loc) or "config"
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc[:-1]))
        return f"config error: unknown key {dotted!r}; allowed here: {allowed}"
    got = first.get("input")
    if isinstance(got, dict) and first["type"] == "value_error":  # a section's own check: its message says it all
        return f"config error: {dotted}: {first['msg'].removeprefix('Value error, ')}"
    shown = repr(got) if not isinstance(got, dict) else "a mapping"
    return f"config error: {dotted}: {first['msg']} (got {shown})"


def _allowed_keys(section_loc: tuple) -> list[str]:
    """Field names of the section a location points into."""
    model: type[BaseModel] = ExperimentConfig
    for part in section_loc:
        annotation = model.model_fields[str(part)].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return []
    return list(model.model_fields)
