"""What a fact function returns, and how it says it cannot be computed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class NotApplicable(Exception):
    """The fact cannot be computed on this data; the message says why."""


@dataclass(frozen=True)
class Measurement:
    """A fact's value and what it was computed over.

    Attributes:
        value: The number compared with the band.
        basis: What the value summarises, e.g. ``median over 993 users``.
        detail: Optional extra (e.g. the largest category gap of the consumption mix).
    """

    value: float
    basis: str
    detail: str = ""


def median_over_users(values: pd.Series, what: str, *, min_users: int = 1) -> Measurement:
    """The median of per-user values (NaNs dropped) as a measurement.

    Raises:
        NotApplicable: Fewer than ``min_users`` users have a value.
    """
    values = values.dropna()
    if len(values) < min_users:
        raise NotApplicable(f"{len(values)} users with {what} (needs {min_users})")
    return Measurement(float(np.median(values.to_numpy())), _users_basis(len(values), what))


def _users_basis(n: int, what: str) -> str:
    noun = "user" if n == 1 else "users"
    return f"median over {n:,} {noun} with {what}"


def require_users(data_users: int, needed: int, fact: str) -> None:
    """Population facts need enough users to speak of a population.

    Raises:
        NotApplicable: Fewer users than ``needed``.
    """
    if data_users < needed:
        raise NotApplicable(
            f"{fact} is a population fact: needs at least {needed} users, got {data_users}"
        )
