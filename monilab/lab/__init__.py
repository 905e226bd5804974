"""The lab floor: the run configuration, the stages of ``monilab run``, the app process,
the reconciliation of exports and the report. Above ``sim``, ``target_app``, ``analysis``
and ``calibration``; below the CLI.
"""
