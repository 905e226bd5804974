"""Subcommands of the ``monilab`` CLI, one module each (see :mod:`monilab.cli.main`)."""
