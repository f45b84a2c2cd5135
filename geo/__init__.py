"""Geometry, CRS, I/O, street networks and shortest paths; knows nothing of children."""
