"""Draw predictions on an image with OpenCV: face box, top emotion, small probability bars.

Images are RGB (grayscale is converted); small images are enlarged first so the text is
readable (short side at least ``MIN_SIDE`` pixels). Boxes are in the original image's pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from fer_keras.data.faces.detect import Box
from fer_keras.labels import abbreviation

MIN_SIDE = 320
BOX_COLOR = (40, 220, 60)
BAR_COLOR = (250, 180, 40)
TEXT_COLOR = (255, 255, 255)
PANEL_COLOR = (30, 30, 30)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def to_rgb(image: np.ndarray) -> np.ndarray:
    """A uint8 HxWx3 RGB copy of an HxW, HxWx1 or HxWx3 image."""
    image = np.asarray(image, np.uint8)
    if image.ndim == 2 or image.shape[-1] == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2RGB)
    return image.copy()


def annotate(image: np.ndarray, boxes: Sequence[Box], probabilities: Sequence[np.ndarray],
             classes: Sequence[str], titles: Sequence[str] | None = None, note: str | None = None) -> np.ndarray:
    """A new RGB image with each face's box, title (default: top class and probability) and bars.

    ``note`` is written in the top-left corner (e.g. "no face").
    """
    canvas = to_rgb(image)
    scale = max(1.0, MIN_SIDE / min(canvas.shape[:2]))
    if scale > 1.0:
        canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    font_scale = max(0.4, min(canvas.shape[:2]) / 900)
    thickness = max(1, round(font_scale * 2))
    for i, (box, probs) in enumerate(zip(boxes, probabilities)):
        x, y, w, h = (round(v * scale) for v in box)
        top = int(np.argmax(probs))
        title = titles[i] if titles is not None else f"{classes[top]} {probs[top]:.2f}"
        cv2.rectangle(canvas, (x, y), (x + w, y + h), BOX_COLOR, thickness + 1)
        (text_w, text_h), base = cv2.getTextSize(title, FONT, font_scale, thickness)
        text_y = y - 4 if y - text_h - base - 4 >= 0 else y + h + text_h + 4
        text_y = min(text_y, canvas.shape[0] - base)
        cv2.rectangle(canvas, (x, text_y - text_h - 2), (x + text_w + 4, text_y + base), PANEL_COLOR, -1)
        cv2.putText(canvas, title, (x + 2, text_y), FONT, font_scale, TEXT_COLOR, thickness, cv2.LINE_AA)
        _bars(canvas, (x, y, w, h), probs, classes, font_scale)
    if note:
        (text_w, text_h), base = cv2.getTextSize(note, FONT, font_scale, thickness)
        cv2.rectangle(canvas, (0, 0), (text_w + 8, text_h + base + 8), PANEL_COLOR, -1)
        cv2.putText(canvas, note, (4, text_h + 4), FONT, font_scale, TEXT_COLOR, thickness, cv2.LINE_AA)
    return canvas


def _bars(canvas: np.ndarray, box: Box, probs: np.ndarray, classes: Sequence[str], font_scale: float) -> None:
    """A small panel of one bar per class beside the box (right if it fits, else left, else inside)."""
    x, y, w, h = box
    row_h = max(10, round(26 * font_scale))
    bar_w = max(40, round(120 * font_scale))
    label_w = round(34 * font_scale) + 4
    panel_w, panel_h = label_w + bar_w + 6, row_h * len(classes) + 4
    height, width = canvas.shape[:2]
    if x + w + 4 + panel_w <= width:
        left = x + w + 4
    elif x - 4 - panel_w >= 0:
        left = x - 4 - panel_w
    else:
        left = max(0, min(x + 2, width - panel_w))
    top = max(0, min(y, height - panel_h))
    cv2.rectangle(canvas, (left, top), (left + panel_w, top + panel_h), PANEL_COLOR, -1)
    small = font_scale * 0.75
    for i, (name, p) in enumerate(zip(classes, probs)):
        row_top = top + 2 + i * row_h
        cv2.putText(canvas, abbreviation(name), (left + 3, row_top + row_h - 3), FONT, small, TEXT_COLOR, 1, cv2.LINE_AA)
        length = round(bar_w * float(np.clip(p, 0.0, 1.0)))
        if length:
            cv2.rectangle(canvas, (left + label_w, row_top + 2), (left + label_w + length, row_top + row_h - 2),
                          BAR_COLOR, -1)
