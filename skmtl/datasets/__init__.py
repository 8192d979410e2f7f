"""Data sets with several related tasks: generators with known structure and
the digit localization images (class + bounding box)."""

from ._digits import box_iou, make_digit_localization
from ._generators import make_multitask_classification, make_multitask_regression

__all__ = ["box_iou", "make_digit_localization", "make_multitask_classification",
           "make_multitask_regression"]
