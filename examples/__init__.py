"""Example apps the lab can load through a target file (see ``docs/targets.md``).

They live outside the ``monilab`` packages on purpose: each is a small, separate app that
the lab knows nothing about except its target file.
"""
