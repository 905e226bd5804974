"""Playwright journeys of agents through target_app's HTML pages."""
