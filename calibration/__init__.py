"""Reference-data adapters, fidelity metrics and the calibration loop.

Entry points (import from the modules; this package imports nothing heavy):

- :mod:`calibration.adapters`: ``load_microdata(mapping, path)`` / ``load_reference(name)``
  map a CSV/Parquet file into the transactions schema by a TOML mapping
  (``calibration/mappings/*.toml``) and return :class:`~calibration.adapters.ReferenceData`
  with a ``has_time`` flag and the ``declared_missing`` fields.
- :mod:`calibration.targets`: ``load_targets(path)`` / ``default_targets()`` for the
  aggregate-targets format; the Seoul 2024 coffee figures are bundled.
- :mod:`calibration.metrics`: ``compute_statistic`` and ``target_discrepancy`` (the loss
  against aggregate targets).
- :mod:`calibration.fidelity`: ``fidelity_report(reference, synthetic, *, seed)``, the
  microdata battery (:mod:`calibration.battery`: the metrics of
  :mod:`calibration.battery_metrics`, :mod:`calibration.c2st`) next to its noise floors.
- :mod:`calibration.split`: ``split_reference`` into fit and held-out parts.
- :mod:`calibration.loop`: ``calibrate(simulator, objective, *, out_dir, budget, ...)``, the
  one calibration loop; the objective is what it fits (:mod:`calibration.objectives`:
  aggregate targets or reference microdata) and its result is a
  :class:`~calibration.result.CalibrationResult` (``to_dict()``: ``calibration.json``).

Reference data lives outside the repository (:func:`calibration.paths.reference_dir`).
"""
