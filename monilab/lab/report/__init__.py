"""The report layer: every HTML page the lab writes, rendered from data.

- :mod:`.render`: the Jinja2 environment over ``templates/`` (``base.html`` layout and
  style, ``macros.html`` with the one table macro), and the typed pieces pages hand it;
- :mod:`.figures`: the only user of matplotlib (Agg): a new figure, saved as a PNG beside
  its page or embedded; :mod:`.charts`: the lab pages' bar, box and line charts;
- the run's report: :mod:`.index` (``OUT/index.html``) linking :mod:`.population`,
  :mod:`.loadpage`, :mod:`.browserpage`, the model card and the calibration report;
- :mod:`.model_card` (+ :mod:`.model_card_extras`): ``model_card.html`` of
  :func:`analysis.training.train`'s result; :mod:`.calibration` (+
  :mod:`.calibration_figures`): ``report.html`` of a calibration;
- :mod:`.check`: opens a report in Chromium and lists what is broken.
"""
