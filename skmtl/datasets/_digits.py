"""Digit localization: classify a small digit and find its box on a canvas.

Built offline from scikit-learn's 8×8 digits; NumPy and SciPy only (no torch),
so that ``import skmtl.datasets`` stays light.
"""

import numbers

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.utils import check_random_state

__all__ = ["make_digit_localization", "box_iou"]

_SUBSETS = ("train", "test", "all")


def _source_digits(subset, test_fraction, split_random_state):
    """Source images (n, 8, 8) in [0, 1] and their classes for one subset.

    The split of the 1797 source digits into a train part and a test part
    depends only on ``split_random_state`` (stratified by class), so that the
    two subsets never share a source digit whatever ``random_state`` is.
    """
    digits = load_digits()
    images = digits.images / 16.0
    target = digits.target
    if subset == "all":
        return images, target
    rng = np.random.RandomState(split_random_state)
    is_test = np.zeros(len(target), dtype=bool)
    for label in np.unique(target):
        members = np.flatnonzero(target == label)
        rng.shuffle(members)
        is_test[members[: int(round(test_fraction * members.size))]] = True
    keep = is_test if subset == "test" else ~is_test
    return images[keep], target[keep]


_INK = 0.05  # patch intensity from which a pixel counts as ink


def _ink_extent(patch):
    """First and last (row, column) holding ink, end exclusive, in pixels."""
    rows = np.flatnonzero(patch.max(axis=1) > _INK)
    cols = np.flatnonzero(patch.max(axis=0) > _INK)
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def make_digit_localization(n_samples=2000, *, subset="all", test_fraction=0.25,
                            canvas_size=28, n_channels=3, digit_size=(12, 20),
                            noise=0.05, split_random_state=0, random_state=None,
                            return_tasks=False):
    """Images with one digit to classify and to locate (class + bounding box).

    Each sample takes one of scikit-learn's 8×8 handwritten digits, rescales
    it to a random size in ``digit_size`` pixels, gives it a random colour and
    places it at a random position on a black ``canvas_size`` × ``canvas_size``
    canvas with ``n_channels`` channels and a little uniform noise. The targets
    are the digit's class and the bounding box of its ink (the pixels where
    the rescaled digit exceeds 0.05 of full intensity), as
    ``(x_min, y_min, x_max, y_max)`` in pixels divided by ``canvas_size`` (so
    in [0, 1]; a box spans whole pixels).

    ``subset="train"`` and ``subset="test"`` draw from two disjoint sets of
    source digits (``test_fraction`` of each class held out, the split fixed
    by ``split_random_state``): test images show handwriting never seen in
    training, not only new positions of known digits.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of images.
    subset : {"all", "train", "test"}, default="all"
        Which source digits to draw from.
    test_fraction : float, default=0.25
        Fraction of each class's source digits reserved for ``subset="test"``.
    canvas_size : int, default=28
        Height and width of the images.
    n_channels : int, default=3
        Number of colour channels.
    digit_size : tuple of int (low, high), default=(12, 20)
        Range of the rescaled digit's side in pixels (inclusive).
    noise : float, default=0.05
        Amplitude of the uniform background noise.
    split_random_state : int, default=0
        Seed of the train/test split of the source digits.
    random_state : int, RandomState instance or None, default=None
        Seed of the choice of digits, their size, colour and position.
    return_tasks : bool, default=False
        Also return the two tasks describing the columns of ``Y``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, canvas_size, canvas_size)
        Images, float32 in [0, 1].
    Y : ndarray of shape (n_samples, 5)
        Column 0: the digit class (0–9, stored as float); columns 1–4: the box
        ``(x_min, y_min, x_max, y_max)`` in [0, 1].
    tasks : list of Task
        Only with ``return_tasks=True``: ``Task("digit", "classification")``
        and ``Task("bbox", "regression", n_outputs=4)``.

    See Also
    --------
    sklearn.datasets.load_digits : The source digits.

    Examples
    --------
    >>> from skmtl.datasets import make_digit_localization
    >>> X, Y, tasks = make_digit_localization(50, random_state=0, return_tasks=True)
    >>> X.shape, Y.shape
    ((50, 3, 28, 28), (50, 5))
    >>> [t.name for t in tasks]
    ['digit', 'bbox']
    >>> bool(((Y[:, 1:] >= 0) & (Y[:, 1:] <= 1)).all())
    True
    """
    if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}.")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}.")
    low, high = digit_size
    if not (isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral)
            and 1 <= low <= high <= canvas_size):
        raise ValueError(f"digit_size must be two integers 1 <= low <= high <= "
                         f"canvas_size={canvas_size}, got {digit_size!r}.")
    if not isinstance(n_channels, numbers.Integral) or n_channels < 1:
        raise ValueError(f"n_channels must be a positive integer, got "
                         f"{n_channels!r}.")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}.")
    rng = check_random_state(random_state)
    images, target = _source_digits(subset, test_fraction, split_random_state)

    X = (rng.uniform(0.0, noise, size=(n_samples, n_channels, canvas_size,
                                       canvas_size)) if noise else
         np.zeros((n_samples, n_channels, canvas_size, canvas_size)))
    X = X.astype(np.float32)
    Y = np.empty((n_samples, 5))
    chosen = rng.randint(len(target), size=n_samples)
    sizes = rng.randint(low, high + 1, size=n_samples)
    corners = rng.uniform(size=(n_samples, 2))
    colours = rng.uniform(0.4, 1.0, size=(n_samples, n_channels))
    for i in range(n_samples):
        source = images[chosen[i]]
        patch = np.clip(zoom(source, sizes[i] / 8.0, order=1), 0.0, 1.0)
        size = patch.shape[0]
        top, left = (corners[i] * (canvas_size - size + 1)).astype(int)
        block = X[i, :, top:top + size, left:left + size]
        np.maximum(block, colours[i][:, None, None] * patch, out=block)
        r0, r1, c0, c1 = _ink_extent(patch)
        Y[i, 0] = target[chosen[i]]
        Y[i, 1:] = np.array([left + c0, top + r0, left + c1, top + r1]) / canvas_size
    if return_tasks:
        from ..tasks import Task

        return X, Y, [Task("digit", "classification"),
                      Task("bbox", "regression", n_outputs=4)]
    return X, Y


def box_iou(boxes_true, boxes_pred):
    """Intersection over union of pairs of boxes ``(x_min, y_min, x_max, y_max)``.

    Parameters
    ----------
    boxes_true, boxes_pred : array-like of shape (n_samples, 4)

    Returns
    -------
    iou : ndarray of shape (n_samples,)
        Area of the intersection over area of the union, in [0, 1]; 0 for
        disjoint boxes (a predicted box with ``max < min`` has no area).

    Examples
    --------
    >>> from skmtl.datasets import box_iou
    >>> box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2]]).tolist()
    [0.3333333333333333]
    """
    t = np.asarray(boxes_true, dtype=float)
    p = np.asarray(boxes_pred, dtype=float)
    if t.shape != p.shape or t.ndim != 2 or t.shape[1] != 4:
        raise ValueError(f"boxes must be two arrays of shape (n_samples, 4), got "
                         f"{t.shape} and {p.shape}.")
    width = np.clip(np.minimum(t[:, 2], p[:, 2]) - np.maximum(t[:, 0], p[:, 0]), 0,
                    None)
    height = np.clip(np.minimum(t[:, 3], p[:, 3]) - np.maximum(t[:, 1], p[:, 1]), 0,
                     None)
    inter = width * height

    def area(b):
        return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0,
                                                             None)

    union = area(t) + area(p) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)
