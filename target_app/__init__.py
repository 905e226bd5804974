"""The Moni personal-finance app (Flask) that the lab loads and records."""
