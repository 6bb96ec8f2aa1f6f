"""The ``synthetic`` dataset: procedurally drawn faces, seven expressions, many identities, fully seeded.

Each subject gets a random *identity* (face shape, skin, hair, background, position,
scale, small rotation, lighting, noise); each image draws one expression on that identity
with random intensity. The expressions differ the way real ones do (mouth curve and
opening, brow height and angle, eye opening, nose wrinkles, cheek lines), so a small CNN
learns them, while the identity variation keeps a linear model on raw pixels well short.

Images come back as uint8 arrays (``HxWx1`` grayscale or ``HxWx3`` RGB), the same seed
giving byte-identical images whatever ``classes`` or ``images_per_class`` are asked for.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from fer_keras.errors import DatasetError
from fer_keras.data.registry import DatasetTable, register_reader
from fer_keras.labels import CLASSES_7

DATASET_NAME = "synthetic"
MIN_SIZE, MAX_SIZE = 48, 256
#: Faces below this size are drawn at up to twice their size (at most this) and shrunk with INTER_AREA.
DRAW_SIZE = 128
#: Sub-pixel precision for OpenCV drawing (coordinates are multiplied by 2**SHIFT).
SHIFT = 4

#: Neutral face; every expression below is a change from it (face half-size units).
NEUTRAL_FACE: dict[str, float] = {
    "mouth_curve": 0.0,  # mouth corners up (+, smile) or down (-, frown)
    "mouth_open": 0.0,  # lip gap at the centre
    "mouth_width": 1.0,  # multiplier of the resting mouth width
    "brow_raise": 0.0,  # both brows up (+) or down (-)
    "brow_tilt": 0.0,  # inner ends up (+, sad/fear) or down toward the nose (-, anger)
    "brow_arch": 0.0,  # extra arch in the middle of the brow
    "eye_open": 1.0,  # multiplier of the resting eye opening
    "nose_wrinkle": 0.0,  # wrinkles across the nose bridge and deep nasolabial folds
    "glabella": 0.0,  # vertical frown lines between the brows
    "cheek_lines": 0.0,  # smile lines from the nose wings to past the mouth corners
    "teeth": 0.0,  # upper teeth visible in an open mouth
}

#: How each canonical expression moves the neutral face at full intensity.
EXPRESSIONS: dict[str, dict[str, float]] = {
    "anger": {"brow_raise": -0.07, "brow_tilt": -0.15, "eye_open": -0.35, "mouth_curve": -0.04,
              "mouth_width": -0.2, "glabella": 1.0},
    "disgust": {"nose_wrinkle": 1.0, "eye_open": -0.4, "brow_raise": -0.04, "brow_tilt": -0.04,
                "mouth_curve": -0.10, "mouth_open": 0.035, "mouth_width": -0.05},
    "fear": {"brow_raise": 0.10, "brow_tilt": 0.10, "eye_open": 0.5, "mouth_open": 0.12,
             "mouth_width": 0.25, "mouth_curve": -0.05},
    "happiness": {"mouth_curve": 0.16, "mouth_open": 0.07, "mouth_width": 0.25, "eye_open": -0.2,
                  "cheek_lines": 1.0, "teeth": 1.0},
    "sadness": {"mouth_curve": -0.15, "brow_tilt": 0.13, "brow_raise": 0.01, "eye_open": -0.2,
                "mouth_width": -0.1},
    "surprise": {"brow_raise": 0.16, "brow_arch": 0.07, "eye_open": 0.6, "mouth_open": 0.24,
                 "mouth_width": -0.35},
    "neutral": {},
}

#: Per-image jitter (standard deviation) of each expression parameter.
JITTER: dict[str, float] = {
    "mouth_curve": 0.015, "mouth_open": 0.01, "mouth_width": 0.05, "brow_raise": 0.015,
    "brow_tilt": 0.015, "brow_arch": 0.01, "eye_open": 0.07, "nose_wrinkle": 0.1,
    "glabella": 0.1, "cheek_lines": 0.1, "teeth": 0.0,
}
#: Range of the random intensity that scales an expression's change from neutral.
INTENSITY = (0.8, 1.0)


@dataclass(frozen=True)
class Identity:
    """Everything about a synthetic person that does not change with expression."""

    aspect: float  # face width / height
    face_size: float  # face half-height, fraction of the canvas
    center: tuple[float, float]  # face centre, fraction of the canvas
    rotation: float  # degrees
    skin: np.ndarray  # BGR, float
    hair: np.ndarray | None  # BGR, float; None = bald
    hairline: float  # face units, negative = above centre
    background: np.ndarray  # BGR, float
    ink: float  # darkness of eyes/brows relative to skin, 0..1
    eye_gap: float  # eye centre distance from the midline, face-width units
    eye_size: float
    brow_height: float
    brow_thickness: float
    mouth_height: float
    mouth_width: float
    nose_length: float
    resting: dict  # small personal offsets of the expression parameters
    light_angle: float  # radians
    light_strength: float
    contrast: float
    blur: float  # Gaussian sigma in canvas pixels
    noise: float  # pixel noise sigma (0..255 scale)


def random_identity(rng: np.random.Generator) -> Identity:
    """Draw one random synthetic person."""
    skin_shade = rng.uniform(0.0, 1.0)
    light_skin, dark_skin = np.array([190.0, 210.0, 240.0]), np.array([55.0, 80.0, 120.0])
    skin = light_skin + skin_shade * (dark_skin - light_skin) + rng.normal(0, 8, 3)
    hair = None if rng.random() < 0.15 else rng.uniform(10, 170) * np.array([0.8, 0.9, 1.0]) + rng.normal(0, 10, 3)
    return Identity(
        aspect=rng.uniform(0.72, 0.9),
        face_size=rng.uniform(0.42, 0.50),
        center=(0.5 + rng.uniform(-0.09, 0.09), 0.5 + rng.uniform(-0.08, 0.08)),
        rotation=rng.uniform(-8.0, 8.0),
        skin=np.clip(skin, 20, 250),
        hair=None if hair is None else np.clip(hair, 0, 255),
        hairline=rng.uniform(-0.75, -0.55),
        background=rng.uniform(15, 240, 3) if rng.random() < 0.5 else np.full(3, rng.uniform(15, 240)),
        ink=rng.uniform(0.55, 0.8),
        eye_gap=rng.uniform(0.33, 0.42),
        eye_size=rng.uniform(0.85, 1.15),
        brow_height=rng.uniform(-0.40, -0.32),
        brow_thickness=rng.uniform(0.055, 0.085),
        mouth_height=rng.uniform(0.46, 0.56),
        mouth_width=rng.uniform(0.85, 1.1),
        nose_length=rng.uniform(0.17, 0.25),
        resting={"mouth_curve": rng.normal(0, 0.015), "brow_raise": rng.normal(0, 0.015),
                 "brow_tilt": rng.normal(0, 0.015), "eye_open": rng.normal(0, 0.06)},
        light_angle=rng.uniform(0, 2 * np.pi),
        light_strength=rng.uniform(0.0, 0.45),
        contrast=rng.uniform(0.75, 1.15),
        blur=rng.uniform(0.4, 1.3),
        noise=rng.uniform(1.0, 5.0),
    )


def expression_parameters(label: str, rng: np.random.Generator, identity: Identity | None = None) -> dict[str, float]:
    """The face parameters for one image of ``label``: random intensity plus jitter."""
    if label not in EXPRESSIONS:
        raise DatasetError(f"synthetic: unknown class {label!r}; expected one of {', '.join(CLASSES_7)}")
    intensity = rng.uniform(*INTENSITY)
    resting = identity.resting if identity is not None else {}
    params = {}
    for name, neutral in NEUTRAL_FACE.items():
        change = EXPRESSIONS[label].get(name, 0.0) * intensity
        params[name] = neutral + resting.get(name, 0.0) + change + rng.normal(0, JITTER[name])
    params["eye_open"] = max(params["eye_open"], 0.25)
    params["mouth_open"] = max(params["mouth_open"], 0.0)
    return params


class _Canvas:
    """Draws in face coordinates (u across, v down, both -1..1 over the face ellipse)."""

    def __init__(self, size: int, identity: Identity):
        self.image = np.full((size, size, 3), _color(identity.background), np.uint8)
        self.half_h = identity.face_size * size
        self.half_w = self.half_h * identity.aspect
        self.cx, self.cy = size / 2, size / 2
        self._scale = np.array([self.half_w, self.half_h]) * (1 << SHIFT)
        self._offset = np.array([self.cx, self.cy]) * (1 << SHIFT)

    def point(self, u: float, v: float) -> tuple[int, int]:
        scale = 1 << SHIFT
        return int(round((self.cx + u * self.half_w) * scale)), int(round((self.cy + v * self.half_h) * scale))

    def points(self, uv: np.ndarray) -> np.ndarray:
        return np.rint(uv * self._scale + self._offset).astype(np.int32)

    def axes(self, au: float, av: float) -> tuple[int, int]:
        scale = 1 << SHIFT
        return max(int(round(au * self.half_w * scale)), 1), max(int(round(av * self.half_h * scale)), 1)

    def width(self, fraction: float) -> int:
        """A line thickness given as a fraction of the face half-height."""
        return max(int(round(fraction * self.half_h)), 1)

    def ellipse(self, u, v, au, av, color, thickness=-1, start=0, end=360):
        cv2.ellipse(self.image, self.point(u, v), self.axes(au, av), 0, start, end,
                    _color(color), thickness, cv2.LINE_AA, SHIFT)

    def polyline(self, uv, color, thickness, closed=False):
        cv2.polylines(self.image, [self.points(np.asarray(uv, float))], closed, _color(color),
                      thickness, cv2.LINE_AA, SHIFT)

    def polygon(self, uv, color):
        cv2.fillPoly(self.image, [self.points(np.asarray(uv, float))], _color(color), cv2.LINE_AA, SHIFT)


def _color(bgr) -> tuple[float, float, float]:
    return tuple(np.clip(bgr, 0.0, 255.0).tolist())


_BROW_STEPS = np.linspace(0, 1, 7)
_MOUTH_STEPS = np.linspace(-1, 1, 15)


def _draw_head(canvas: _Canvas, who: Identity) -> None:
    """Neck, hair behind the head, face ellipse, fringe."""
    canvas.polygon([(-0.45, 0.6), (0.45, 0.6), (0.55, 3.0), (-0.55, 3.0)], who.skin * 0.82)
    if who.hair is not None:
        canvas.ellipse(0, -0.12, 1.14, 1.02, who.hair)
    canvas.ellipse(0, 0, 1.0, 1.0, who.skin)
    canvas.ellipse(0, 0, 1.0, 1.0, who.skin * 0.8, canvas.width(0.025))
    if who.hair is not None:
        h = who.hairline
        canvas.ellipse(0, h, np.sqrt(1 - h * h) * 1.03, (1 + h) * 1.05, who.hair, -1, 180, 360)


def _draw_brows(canvas: _Canvas, who: Identity, p: dict) -> None:
    hair = who.hair if who.hair is not None else who.skin
    color = (1 - who.ink) * (0.5 * hair + 0.25 * who.skin)
    base = who.brow_height - p["brow_raise"]
    thickness = canvas.width(who.brow_thickness)
    for side in (-1, 1):
        inner_u, outer_u = side * 0.14, side * 0.66
        inner_v = base - p["brow_tilt"]
        outer_v = base + 0.3 * p["brow_tilt"]
        mid_v = (inner_v + outer_v) / 2 - 0.05 - p["brow_arch"]
        u = _BROW_STEPS
        curve_u = inner_u + (outer_u - inner_u) * u
        curve_v = (1 - u) ** 2 * inner_v + 2 * u * (1 - u) * mid_v + u**2 * outer_v
        canvas.polyline(np.stack([curve_u, curve_v], 1), color, thickness)


def _draw_eyes(canvas: _Canvas, who: Identity, p: dict) -> None:
    half_w = 0.19 * who.eye_size
    half_h = 0.085 * who.eye_size * p["eye_open"]
    v = who.brow_height + 0.2
    sclera = np.full(3, 235.0) * 0.6 + who.skin * 0.4
    dark = who.skin * (1 - who.ink) * 0.6
    for side in (-1, 1):
        u = side * who.eye_gap
        canvas.ellipse(u, v, half_w, half_h, sclera)
        iris = min(half_h * canvas.half_h, 0.09 * who.eye_size * canvas.half_h) / canvas.half_w
        canvas.ellipse(u, v, iris, iris * canvas.half_w / canvas.half_h, dark)
        canvas.ellipse(u, v, half_w, half_h, dark, canvas.width(0.025))
        # upper lid crease: follows the opening
        canvas.ellipse(u, v - 0.02, half_w * 1.05, half_h + 0.05, who.skin * 0.72, canvas.width(0.018), 200, 340)


def _draw_nose(canvas: _Canvas, who: Identity, p: dict) -> None:
    line = who.skin * 0.68
    top, tip = who.brow_height + 0.22, who.brow_height + 0.22 + who.nose_length + 0.1
    canvas.polyline([(-0.08, top), (-0.1, tip - 0.06)], line, canvas.width(0.02))
    canvas.polyline([(0.08, top), (0.1, tip - 0.06)], line, canvas.width(0.02))
    canvas.ellipse(0, tip - 0.02, 0.18, 0.06, line * 0.85, canvas.width(0.03), 10, 170)
    wrinkle = np.clip(p["nose_wrinkle"], 0, 1.2)
    if wrinkle > 0.15:
        color = who.skin * (1 - 0.45 * min(wrinkle, 1))
        for k in range(3):
            v = top + 0.02 + 0.055 * k
            canvas.polyline([(-0.12, v + 0.02), (0.0, v - 0.015), (0.12, v + 0.02)], color, canvas.width(0.025))
        for side in (-1, 1):  # nose wings pulled up: short deep folds beside the nostrils
            canvas.polyline([(side * 0.17, tip - 0.1), (side * 0.25, tip - 0.02), (side * 0.27, tip + 0.08)],
                            color, canvas.width(0.03))
    glabella = np.clip(p["glabella"], 0, 1.2)
    if glabella > 0.15:
        color = who.skin * (1 - 0.4 * min(glabella, 1))
        base = who.brow_height - p["brow_raise"]
        for u in (-0.05, 0.05):
            canvas.polyline([(u, base - 0.12), (u * 0.6, base + 0.06)], color, canvas.width(0.025))


def _draw_mouth(canvas: _Canvas, who: Identity, p: dict) -> None:
    half_w = 0.34 * who.mouth_width * max(p["mouth_width"], 0.3)
    v0 = who.mouth_height
    u = _MOUTH_STEPS
    centre_line = v0 - p["mouth_curve"] * u**2  # corners move with the curve, centre stays
    opening = p["mouth_open"] * (1 - u**2) ** 0.7
    lips = who.skin * np.array([0.7, 0.68, 0.85]) * (0.75 + 0.15 * who.ink)
    dark = who.skin * 0.18
    if p["cheek_lines"] > 0.15:  # smile lines: arcs bracketing the mouth corners
        color = who.skin * (1 - 0.3 * min(p["cheek_lines"], 1))
        for side in (-1, 1):
            corner_v = v0 - p["mouth_curve"]
            canvas.polyline([(side * (half_w + 0.02), corner_v - 0.2), (side * (half_w + 0.11), corner_v - 0.05),
                             (side * (half_w + 0.06), corner_v + 0.1)], color, canvas.width(0.028))
    upper = np.stack([u * half_w, centre_line - opening * 0.45 - 0.05 * (1 - u**2)], 1)
    lower = np.stack([u * half_w, centre_line + opening * 0.55 + 0.07 * (1 - u**2)], 1)
    canvas.polygon(np.concatenate([upper, lower[::-1]]), lips)
    if p["mouth_open"] > 0.01:
        gap_top = np.stack([u * half_w * 0.95, centre_line - opening * 0.45], 1)
        gap_bottom = np.stack([u * half_w * 0.95, centre_line + opening * 0.55], 1)
        canvas.polygon(np.concatenate([gap_top, gap_bottom[::-1]]), dark)
        if p["teeth"] > 0.5:
            teeth_bottom = np.stack([u * half_w * 0.8, centre_line], 1)
            canvas.polygon(np.concatenate([gap_top[2:-2], teeth_bottom[::-1][2:-2]]), np.full(3, 225.0))
    else:
        canvas.polyline(np.stack([u * half_w, centre_line], 1), who.skin * 0.3, canvas.width(0.035))


#: Per-image head movement and light change on top of the identity's pose (uniform ± ranges).
POSE_JITTER = {"shift_x": 0.045, "rotation": 4.0, "scale": 0.06, "light_angle": 0.6, "light_strength": 0.1,
               "shift_y": 0.045}


def render_face(identity: Identity, params: dict, image_size: int, color_mode: str,
                rng: np.random.Generator) -> np.ndarray:
    """Draw one face and return a uint8 ``HxWx1`` (grayscale) or ``HxWx3`` (RGB) image.

    ``rng`` adds this image's small head movement, light change and pixel noise.
    """
    size = max(image_size, min(2 * image_size, DRAW_SIZE))
    canvas = _Canvas(size, identity)
    _draw_head(canvas, identity)
    _draw_brows(canvas, identity, params)
    _draw_eyes(canvas, identity, params)
    _draw_nose(canvas, identity, params)
    _draw_mouth(canvas, identity, params)
    image = canvas.image
    image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if color_mode == "grayscale" else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    jitter = {k: rng.uniform(-r, r) for k, r in POSE_JITTER.items()}
    centre = np.array(identity.center) + [jitter["shift_x"], jitter["shift_y"]]
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), identity.rotation + jitter["rotation"], 1 + jitter["scale"])
    matrix[:, 2] += (centre - 0.5) * size
    image = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if size != image_size:
        image = cv2.resize(image, (image_size, image_size), interpolation=cv2.INTER_AREA)
    sigma = identity.blur * image_size / size
    if sigma >= 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma)

    angle = identity.light_angle + jitter["light_angle"]
    strength = identity.light_strength + jitter["light_strength"]
    ramp = np.linspace(-strength, strength, image_size, dtype=np.float32)
    light = 1 + np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
    pixels = image.reshape(image_size, image_size, -1).astype(np.float32)
    pixels = ((pixels - 128) * identity.contrast + 128) * light[..., None]
    pixels += rng.normal(0, identity.noise, pixels.shape).astype(np.float32)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _check_image_options(image_size: int, color_mode: str) -> None:
    if not isinstance(image_size, (int, np.integer)) or not MIN_SIZE <= image_size <= MAX_SIZE:
        raise DatasetError(f"synthetic: image_size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {image_size!r}")
    if color_mode not in ("grayscale", "rgb"):
        raise DatasetError(f"synthetic: color_mode must be 'grayscale' or 'rgb', got {color_mode!r}")


def draw_face(rng_or_seed, label: str, image_size: int = 48, color_mode: str = "grayscale") -> np.ndarray:
    """One face of a random person showing ``label``; for test fixtures of other datasets."""
    _check_image_options(image_size, color_mode)
    rng = np.random.default_rng(rng_or_seed)
    identity = random_identity(rng)
    return render_face(identity, expression_parameters(label, rng, identity), image_size, color_mode, rng)


def make_synthetic_faces(n_subjects: int = 20, images_per_class: int = 2, image_size: int = 64,
                         color_mode: str = "grayscale", classes=None, seed: int = 0) -> pd.DataFrame:
    """A balanced table of synthetic faces: every subject shows every class ``images_per_class`` times.

    Columns: ``path`` (None), ``image`` (uint8 HxWxC), ``label``, ``subject`` (``syn_007``),
    ``dataset`` ("synthetic"). Each image has its own random stream derived from
    (seed, subject, class, repetition), so restricting ``classes`` keeps the other images identical.
    """
    _check_image_options(image_size, color_mode)
    if not isinstance(n_subjects, (int, np.integer)) or n_subjects < 1:
        raise DatasetError(f"synthetic: n_subjects must be a positive integer, got {n_subjects!r}")
    if not isinstance(images_per_class, (int, np.integer)) or images_per_class < 1:
        raise DatasetError(f"synthetic: images_per_class must be a positive integer, got {images_per_class!r}")
    chosen = list(CLASSES_7) if classes is None else list(classes)
    unknown = [c for c in chosen if c not in CLASSES_7]
    if unknown or not chosen:
        raise DatasetError(f"synthetic: unknown classes {unknown or chosen!r}; expected names from {', '.join(CLASSES_7)}")
    width = max(3, len(str(n_subjects - 1)))
    rows = []
    for s in range(n_subjects):
        identity = random_identity(np.random.default_rng([seed, s]))
        subject = f"syn_{s:0{width}d}"
        for label in chosen:
            for k in range(images_per_class):
                rng = np.random.default_rng([seed, s, CLASSES_7.index(label) + 1, k])
                image = render_face(identity, expression_parameters(label, rng, identity), image_size, color_mode, rng)
                rows.append((None, image, label, subject, DATASET_NAME))
    return pd.DataFrame(rows, columns=["path", "image", "label", "subject", "dataset"])


_OPTIONS = tuple(inspect.signature(make_synthetic_faces).parameters)


@register_reader(DATASET_NAME)
def read_synthetic(root=None, **options) -> DatasetTable:
    """Synthetic faces; ``root`` is ignored, ``options`` go to :func:`make_synthetic_faces`."""
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise DatasetError(f"synthetic: unknown option {', '.join(unknown)}; allowed: {', '.join(_OPTIONS)}")
    return DatasetTable(make_synthetic_faces(**options))


def write_class_folders(table: pd.DataFrame, root, image_format: str = "png") -> pd.DataFrame:
    """Write ``table``'s images to ``root/<label>/<subject>_<n>.<format>``; return it with ``path`` set, ``image`` dropped.

    RGB arrays are written as true colours (OpenCV stores BGR), so ``cv2.imread`` plus
    ``COLOR_BGR2RGB`` gives the array back (lossless formats only).
    """
    root = Path(root)
    counters: dict[tuple[str, str], int] = {}
    paths = []
    for image, label, subject in zip(table["image"], table["label"], table["subject"]):
        n = counters.get((label, subject), 0)
        counters[(label, subject)] = n + 1
        path = root / label / f"{subject}_{n}.{image_format.lstrip('.')}"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.shape[-1] == 3 else image
        if not cv2.imwrite(str(path), pixels):
            raise DatasetError(f"synthetic: could not write {path} (image_format {image_format!r} unsupported?)")
        paths.append(str(path))
    written = table.drop(columns=["image"]).copy()
    written["path"] = paths
    return written
