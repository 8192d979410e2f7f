"""Data sets with several related tasks.

Generators with known shared structure, loaders for real data that pip
packages ship (the ``datasets`` extra), and fetchers that download the
standard multi-task benchmarks once into a local cache.
"""

from ._fetchers import clear_data_home, fetch_landmine, fetch_school, get_data_home
from ._generators import make_multitask_classification, make_multitask_regression
from ._penguins import load_penguins
from ._rdatasets import load_exam, load_hsb82

__all__ = [
    "clear_data_home",
    "fetch_landmine",
    "fetch_school",
    "get_data_home",
    "load_exam",
    "load_hsb82",
    "load_penguins",
    "make_multitask_classification",
    "make_multitask_regression",
]
