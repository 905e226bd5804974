"""The top floor: the ``monilab`` command (:mod:`~monilab.cli.main`) and its subcommands
(:mod:`~monilab.cli.commands`, one module each)."""
