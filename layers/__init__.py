"""Layer kinds, schemas, loading and validation, OSM tag mappings, demand, the demo district."""
