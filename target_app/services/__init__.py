"""The service layer: every rule of the app, shared by the JSON API and the HTML pages.

Services are plain functions over a SQLAlchemy ``Session`` and validated ``dict`` input
(see :mod:`target_app.validation`); they know nothing of Flask. Each one that writes
commits its own unit of work and raises :class:`~target_app.errors.AppError` subclasses
for requests it refuses.
"""
