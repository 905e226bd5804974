"""Reference-data adapters, discrepancy metrics and the calibration loop."""
