"""The synthetic population and the transports that carry out its decisions."""
