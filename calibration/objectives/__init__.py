"""What a calibration fits: one class per kind of reference (import from the modules).

- :mod:`calibration.objectives.base`: the :class:`~calibration.objectives.base.Objective`
  interface the loop (:func:`calibration.loop.calibrate`) drives.
- :mod:`calibration.objectives.targets`: aggregate targets
  (:class:`~calibration.objectives.targets.TargetsObjective`).
- :mod:`calibration.objectives.reference`: reference microdata or a dataset
  (:class:`~calibration.objectives.reference.ReferenceObjective`).
"""
