"""Locust users that replay agents' decisions against target_app's JSON API."""
