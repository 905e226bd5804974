"""Aggregate targets: the vocabulary, the file parser and the bundled default target set.

``seoul_coffee_2024.csv`` holds published figures: Seoul Open Data Plaza,
서울시 상권분석서비스(추정매출-행정동), business type 커피-음료, 2024 (card-based sales estimates,
all administrative neighbourhoods, four quarters).
"""

from calibration.targets.parse import default_targets, load_targets, parse_targets, split_targets
from calibration.targets.vocabulary import (
    SCALAR_STATISTICS,
    SHARE_STATISTICS,
    STATISTICS,
    RowFilter,
    parse_filter,
)

__all__ = [
    "SCALAR_STATISTICS",
    "SHARE_STATISTICS",
    "STATISTICS",
    "RowFilter",
    "default_targets",
    "load_targets",
    "parse_filter",
    "parse_targets",
    "split_targets",
]
