"""Reference adapters: map microdata files into the transactions schema by a TOML mapping."""

from calibration.adapters.mapping import MicrodataMapping, load_mapping, parse_mapping
from calibration.adapters.microdata import ReferenceData, load_microdata, load_reference

__all__ = [
    "MicrodataMapping",
    "ReferenceData",
    "load_mapping",
    "load_microdata",
    "load_reference",
    "parse_mapping",
]
