"""Reference adapters: microdata files mapped by a TOML mapping, or datasets in the schema."""

from calibration.adapters.dataset import load_dataset_reference
from calibration.adapters.mapping import MicrodataMapping, load_mapping, parse_mapping
from calibration.adapters.microdata import (
    ReferenceData,
    load_microdata,
    load_reference,
    real_transactions,
)

__all__ = [
    "MicrodataMapping",
    "ReferenceData",
    "load_dataset_reference",
    "load_mapping",
    "load_microdata",
    "load_reference",
    "parse_mapping",
    "real_transactions",
]
