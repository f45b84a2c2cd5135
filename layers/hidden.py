"""Hidden columns a reader adds for the validator: what it repaired or could not read, per row."""

from __future__ import annotations

COORD_PROBLEM = "_coord_problem"  # a table's lon/lat cell could not be read (Text)
COORD_NOTE = "_coord_note"  # a table's lon/lat cell was normalised (Text)
GEOM_PROBLEM = "_geom_problem"  # the geometry could not be read (Text)
# A reader that classes features itself (OSM files): per row a (field, reason) that rejects it,
# and the (field, what) repairs it made.
READ_PROBLEM = "_read_problem"
READ_NOTES = "_read_notes"
HIDDEN = (COORD_PROBLEM, COORD_NOTE, GEOM_PROBLEM, READ_PROBLEM, READ_NOTES)

__all__ = ["COORD_NOTE", "COORD_PROBLEM", "GEOM_PROBLEM", "HIDDEN", "READ_NOTES", "READ_PROBLEM"]
