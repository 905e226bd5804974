"""Features and the type, anomaly and forecast models trained on the lab's data.

- :mod:`analysis.features`: per-user, per-day, per-week and per-hour features;
- :mod:`analysis.type_model`: K-means types (documented naming rule) and classifiers;
- :mod:`analysis.anomaly`: the seed's IQR rule, Isolation Forest, K-means, the ensemble,
  notifications and the monthly top-10 report;
- :mod:`analysis.forecast`: next week's spend (baselines, two-stage, overrun);
- :mod:`analysis.hourly`: spend-in-hour models; :mod:`analysis.metrics`: shared metrics;
- :mod:`analysis.training`: ``monilab train`` / ``evaluate``; :mod:`analysis.report`: the card.
"""
