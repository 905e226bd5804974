"""Mesa model of the population: personas, user agents, calendar, anomaly injection."""
