"""Data sets with several related tasks.

Generators with known shared structure, the digit localization images (class
and bounding box), loaders for real data that pip packages ship (the
``datasets`` extra), and fetchers that download the standard multi-task
benchmarks once into a local cache.
"""

from ._digits import box_iou, make_digit_localization
from ._fetchers import clear_data_home, fetch_landmine, fetch_school, get_data_home
from ._funnel import make_funnel
from ._generators import make_multitask_classification, make_multitask_regression
from ._penguins import load_penguins
from ._rdatasets import load_exam, load_hsb82

__all__ = [
    "box_iou",
    "clear_data_home",
    "fetch_landmine",
    "fetch_school",
    "get_data_home",
    "load_exam",
    "load_hsb82",
    "load_penguins",
    "make_digit_localization",
    "make_funnel",
    "make_multitask_classification",
    "make_multitask_regression",
]
