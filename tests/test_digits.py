"""make_digit_localization and box_iou."""

import numpy as np
import pytest

from skmtl.datasets import box_iou, make_digit_localization
from skmtl.datasets._digits import _source_digits
from skmtl.tasks import resolve_tasks


def test_images_classes_and_boxes():
    X, Y, tasks = make_digit_localization(200, random_state=0, return_tasks=True)
    assert X.shape == (200, 3, 28, 28) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1
    assert set(np.unique(Y[:, 0])) == set(range(10))
    boxes = Y[:, 1:]
    assert np.all((boxes >= 0) & (boxes <= 1))
    assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
    fitted = resolve_tasks(tasks, Y)
    assert [list(t.columns_) for t in fitted] == [[0], [1, 2, 3, 4]]


def test_the_box_holds_the_ink_and_only_background_lies_outside():
    X, Y = make_digit_localization(100, noise=0.0, random_state=1)
    rows, cols = np.mgrid[0:28, 0:28]
    for image, box in zip(X.max(axis=1), np.round(Y[:, 1:] * 28).astype(int)):
        x0, y0, x1, y1 = box
        inside = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
        # outside: nothing, or ink fainter than the 0.05 threshold
        assert image[~inside].max() <= 0.05
        assert image[inside].max() > 0.3
        # the box is tight: its first and last rows and columns hold ink
        for edge in (image[y0, x0:x1], image[y1 - 1, x0:x1], image[y0:y1, x0],
                     image[y0:y1, x1 - 1]):
            assert edge.max() > 0


def test_train_and_test_subsets_use_disjoint_source_digits():
    train, train_labels = _source_digits("train", 0.25, 0)
    test, test_labels = _source_digits("test", 0.25, 0)
    assert len(train) + len(test) == 1797
    assert len(test) == pytest.approx(0.25 * 1797, abs=10)
    train_keys = {image.tobytes() for image in train}
    # a few source digits are exact duplicates of each other in sklearn's set
    shared = sum(image.tobytes() in train_keys for image in test)
    assert shared <= 2
    assert set(test_labels) == set(range(10))
    # the split does not move with random_state, only with split_random_state
    a = make_digit_localization(50, subset="test", random_state=0)[1][:, 0]
    b = make_digit_localization(50, subset="test", random_state=0,
                                split_random_state=1)[1][:, 0]
    assert not np.array_equal(a, b)


def test_reproducible_with_random_state():
    a = make_digit_localization(30, random_state=3)
    b = make_digit_localization(30, random_state=3)
    c = make_digit_localization(30, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("kwargs, message", [
    ({"n_samples": 0}, "n_samples must be a positive integer"),
    ({"subset": "valid"}, "subset must be one of"),
    ({"test_fraction": 1.0}, r"test_fraction must be in \(0, 1\)"),
    ({"digit_size": (12, 40)}, "digit_size must be two integers"),
    ({"n_channels": 0}, "n_channels must be a positive integer"),
    ({"noise": -1}, "noise must be >= 0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_digit_localization(**{"n_samples": 5, **kwargs})


def test_box_iou_by_hand():
    truth = [[0, 0, 2, 2], [0, 0, 1, 1], [0, 0, 1, 1]]
    pred = [[1, 1, 3, 3], [0, 0, 1, 1], [2, 2, 3, 3]]
    np.testing.assert_allclose(box_iou(truth, pred), [1 / 7, 1.0, 0.0])
    # an inverted predicted box has no area
    assert box_iou([[0, 0, 1, 1]], [[1, 1, 0, 0]]).tolist() == [0.0]
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\)"):
        box_iou([[0, 0, 1]], [[0, 0, 1]])
