"""The lab run's HTML report: an index linking the population, load, browser, model and
calibration reports, with plots as PNG files next to the pages."""
