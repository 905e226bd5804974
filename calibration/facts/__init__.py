"""The stylized-facts battery: realism checks that run on any dataset in the lab's schema.

Entry points:

- :func:`run_facts` (a dataset directory, a microdata file with a mapping, or prepared
  frames) returns a list of :class:`FactResult`: each fact's value, its reference band
  from ``bands.toml`` (:func:`load_bands`), the verdict (in / out / n/a with the reason)
  and the band's source;
- :func:`fact_data` prepares plain transactions frames (plus optional sessions) for the
  facts; :data:`FACTS` maps each fact name to its function;
- :func:`format_facts` / :func:`failure_lines` render a run (``monilab describe --facts``).

Definitions and sources: ``docs/realism.md``.
"""

from calibration.facts.bands import Band, BandSet, load_bands
from calibration.facts.frames import FactData, Sessions, fact_data
from calibration.facts.measure import Measurement, NotApplicable
from calibration.facts.report import failure_lines, format_facts
from calibration.facts.runner import FACTS, FactResult, evaluate, run_facts

__all__ = [
    "FACTS",
    "Band",
    "BandSet",
    "FactData",
    "FactResult",
    "Measurement",
    "NotApplicable",
    "Sessions",
    "evaluate",
    "fact_data",
    "failure_lines",
    "format_facts",
    "load_bands",
    "run_facts",
]
