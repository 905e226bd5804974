"""Bundled TOML mappings from reference microdata to the transactions schema (data only).

The format is documented in :mod:`calibration.adapters.mapping`.
"""
