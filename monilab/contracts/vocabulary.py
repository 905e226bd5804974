"""The lab's shared vocabulary: categories, spending types, styles, methods, anomaly kinds.

A leaf module: every layer may import it, it imports nothing.
"""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "food",
    "coffee",
    "shopping",
    "transport",
    "living",
    "health",
    "beauty",
    "entertainment",
    "education",
    "travel",
    "savings",
    "investment",
    "transfer",
    "income",
    "etc",
)
"""Spending categories after the seed app; ``income`` is for incoming salary and deposits."""

SPENDING_TYPES: tuple[str, ...] = ("saver", "stable", "goal_setter", "yolo", "investor")
"""The seed's five types: 절약형, 안정형, 목표요정형, YOLO형, 진격의 투자형."""

STYLES: tuple[str, ...] = ("loose_passive", "loose_aggressive", "tight_passive", "tight_aggressive")
"""Activity/risk styles (seed 004): loose/tight frequency × passive/aggressive risk."""

METHODS: tuple[str, ...] = ("card", "transfer", "auto_debit", "cash")
DIRECTIONS: tuple[str, ...] = ("in", "out")
GENDERS: tuple[str, ...] = ("m", "f")
EVENT_SOURCES: tuple[str, ...] = ("locust", "browser", "api", "history")
ANOMALY_KINDS: tuple[str, ...] = (
    "amount_spike",
    "small_burst",
    "unusual_category",
    "unusual_hour",
    "new_merchant_large",
    "duplicate_charge",
    "near_duplicate",
    "ordinary_burst",
    "account_takeover",
)
