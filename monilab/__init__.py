"""Moni Lab: the front door (CLI, run configuration) and the data contracts shared by all parts."""

__version__ = "0.1.0"
