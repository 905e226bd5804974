"""The ground floor: data contracts and user-facing errors, imported by every layer.

- :mod:`~monilab.contracts.vocabulary`: categories, types, styles, anomaly kinds.
- :mod:`~monilab.contracts.tables`: the table contracts and :func:`conform`.
- :mod:`~monilab.contracts.datasets`: dataset directories (write shard by shard, read lazily).
- :mod:`~monilab.contracts.errors`: :class:`MonilabError` and :func:`read_toml`.

Nothing here imports from the rest of the lab.
"""
