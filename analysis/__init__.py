"""Features and the type, anomaly and forecast models trained on the lab's data."""
