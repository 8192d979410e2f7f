"""Data sets with several related tasks: generators with known structure."""

from ._generators import make_multitask_classification, make_multitask_regression

__all__ = ["make_multitask_classification", "make_multitask_regression"]
