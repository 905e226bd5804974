"""Reference-data adapters, discrepancy metrics and the calibration loop.

Entry points (import from the modules; this package imports nothing heavy):

- :mod:`calibration.adapters`: ``load_microdata(mapping, path)`` / ``load_reference(name)``
  map a CSV/Parquet file into the transactions schema by a TOML mapping
  (``calibration/mappings/*.toml``) and return :class:`~calibration.adapters.ReferenceData`
  with a ``has_time`` flag and the ``declared_missing`` fields.
- :mod:`calibration.targets`: ``load_targets(path)`` / ``default_targets()`` for the
  aggregate-targets format; the Seoul 2024 coffee figures are bundled.
- :mod:`calibration.metrics`: ``compute_statistic`` and ``target_discrepancy`` (the loss
  against aggregate targets).
- :mod:`calibration.report`: ``fidelity_report(reference, synthetic, *, seed)``, the
  microdata battery (:mod:`calibration.battery`, :mod:`calibration.c2st`) next to its noise
  floors.
- :mod:`calibration.split`: ``split_reference`` into fit and held-out parts.

Reference data lives outside the repository (:func:`calibration.paths.reference_dir`).
"""
