"""fer_keras/inference/annotate.py: the face box, its title and the probability bars, drawn where they belong."""

from __future__ import annotations

import numpy as np
import pytest

from fer_keras.inference.annotate import BAR_COLOR, BOX_COLOR, MIN_SIDE, PANEL_COLOR, annotate, to_rgb

CLASSES = ["happiness", "sadness", "neutral"]


def mask(image: np.ndarray, colour) -> np.ndarray:
    """Where ``image`` is exactly ``colour``."""
    return np.all(image == np.array(colour, np.uint8), axis=-1)


def extent(where: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the True pixels."""
    ys, xs = np.nonzero(where)
    assert len(xs), "nothing drawn in that colour"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def white(image: np.ndarray) -> np.ndarray:
    """Text pixels (white, antialiased edges left out)."""
    return np.all(image >= 200, axis=-1) & ~mask(image, BOX_COLOR)


def bar_rows(image: np.ndarray) -> list[int]:
    """Length of each bar, top to bottom (one entry per bar)."""
    bars = mask(image, BAR_COLOR)
    lengths, previous = [], 0
    for row in bars:
        count = int(row.sum())
        if count and not previous:
            lengths.append(count)
        previous = count
    return lengths


def gray_face(side: int = 64, value: int = 100) -> np.ndarray:
    return np.full((side, side), value, np.uint8)


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1)])
def test_to_rgb_replicates_grayscale(shape):
    image = np.arange(35, dtype=np.uint8).reshape(shape)
    rgb = to_rgb(image)
    assert rgb.shape == (5, 7, 3) and rgb.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], image.reshape(5, 7))


def test_to_rgb_copies_a_colour_image():
    image = np.zeros((4, 4, 3), np.uint8)
    image[..., 0] = 255
    rgb = to_rgb(image)
    np.testing.assert_array_equal(rgb, image)
    rgb[0, 0] = 7
    assert image[0, 0, 0] == 255


def test_small_image_is_enlarged_and_the_box_drawn_at_the_scaled_position():
    image = gray_face(64)
    drawn = annotate(image, [(10, 10, 20, 20)], [np.array([0.75, 0.25, 0.0])], CLASSES)
    assert drawn.shape == (MIN_SIDE, MIN_SIDE, 3) and drawn.dtype == np.uint8
    scale = MIN_SIDE / 64
    left, top, right, bottom = extent(mask(drawn, BOX_COLOR))
    assert left == pytest.approx(10 * scale, abs=1) and top == pytest.approx(10 * scale, abs=1)
    assert right == pytest.approx(30 * scale, abs=1) and bottom == pytest.approx(30 * scale, abs=1)
    # the face itself is left alone, and so is the input
    np.testing.assert_array_equal(drawn[60:140, 60:140], 100)
    np.testing.assert_array_equal(image, gray_face(64))


def test_large_colour_image_keeps_its_size_colours_and_box_coordinates():
    image = np.zeros((480, 640, 3), np.uint8)
    image[..., 0] = 255  # red, in RGB
    drawn = annotate(image, [(100, 120, 200, 160)], [np.array([0.2, 0.7, 0.1])], CLASSES)
    assert drawn.shape == image.shape
    left, top, right, bottom = extent(mask(drawn, BOX_COLOR))
    assert (left, top) == pytest.approx((100, 120), abs=1)
    assert (right, bottom) == pytest.approx((300, 280), abs=1)
    assert tuple(drawn[470, 630]) == (255, 0, 0)  # no channel swap away from the drawing
    assert tuple(drawn[200, 200]) == (255, 0, 0)


def test_default_title_is_the_top_class_and_its_probability():
    probabilities = [np.array([0.1, 0.6, 0.3])]
    drawn = annotate(gray_face(), [(10, 10, 20, 20)], probabilities, CLASSES)
    np.testing.assert_array_equal(drawn, annotate(gray_face(), [(10, 10, 20, 20)], probabilities, CLASSES,
                                                  titles=["sadness 0.60"]))
    assert not np.array_equal(drawn, annotate(gray_face(), [(10, 10, 20, 20)], probabilities, CLASSES,
                                              titles=["happiness 0.60"]))


def test_title_is_written_above_the_box_or_below_it_at_the_top_edge():
    probabilities = [np.array([0.8, 0.1, 0.1])]
    above = annotate(gray_face(), [(10, 10, 20, 20)], probabilities, CLASSES)  # box from 50 to 150 once enlarged
    assert white(above[:50, 50:150]).any() and mask(above[:50, 50:150], PANEL_COLOR).any()
    assert not white(above[152:, 50:150]).any()
    below = annotate(gray_face(), [(10, 0, 20, 20)], probabilities, CLASSES)  # box from 0 to 100
    assert white(below[102:160, 50:150]).any() and mask(below[102:160, 50:150], PANEL_COLOR).any()


def test_one_bar_per_class_in_order_as_long_as_its_probability():
    drawn = annotate(gray_face(), [(10, 10, 20, 20)], [np.array([0.75, 0.25, 0.0])], CLASSES)
    first, second = bar_rows(drawn)  # a zero probability draws no bar
    assert (first - 1) == pytest.approx(3 * (second - 1), abs=1)  # filled rectangles span length + 1 pixels
    ordered = annotate(gray_face(), [(10, 10, 20, 20)], [np.array([0.25, 0.75, 0.0])], CLASSES)
    assert bar_rows(ordered) == [second, first]


def test_probabilities_outside_0_1_are_clipped():
    def drawn(probabilities):
        return annotate(gray_face(), [(10, 10, 20, 20)], [np.array(probabilities)], CLASSES, titles=["x"])

    np.testing.assert_array_equal(drawn([1.7, -0.3, 0.0]), drawn([1.0, 0.0, 0.0]))


def test_bars_go_right_of_the_box_else_left_else_inside():
    probabilities = [np.array([0.5, 0.5, 0.0])]
    image = gray_face(320)
    right = extent(mask(annotate(image, [(40, 100, 80, 80)], probabilities, CLASSES), BAR_COLOR))
    assert right[0] > 120
    left = extent(mask(annotate(image, [(200, 100, 80, 80)], probabilities, CLASSES), BAR_COLOR))
    assert left[2] < 200
    inside = extent(mask(annotate(image, [(0, 0, 320, 320)], probabilities, CLASSES), BAR_COLOR))
    assert 0 < inside[0] and inside[2] < 320 and inside[3] < 320


def test_each_face_gets_its_own_box():
    drawn = annotate(gray_face(320), [(20, 100, 60, 60), (200, 100, 60, 60)],
                     [np.array([0.9, 0.05, 0.05]), np.array([0.05, 0.9, 0.05])], CLASSES)
    boxes = mask(drawn, BOX_COLOR)
    assert extent(boxes[:, :160])[::2] == pytest.approx((20, 80), abs=1)
    assert extent(boxes[:, 160:])[::2] == pytest.approx((200 - 160, 260 - 160), abs=1)


def test_note_without_faces_is_written_top_left_and_nothing_else_drawn():
    plain = annotate(gray_face(), [], [], CLASSES)
    np.testing.assert_array_equal(plain, 100)
    noted = annotate(gray_face(), [], [], CLASSES, note="no face")
    assert tuple(noted[1, 1]) == PANEL_COLOR
    assert white(noted[:40, :120]).any()
    assert not mask(noted, BOX_COLOR).any() and not mask(noted, BAR_COLOR).any()
    np.testing.assert_array_equal(noted[60:], 100)
