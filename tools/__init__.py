"""journeyman tools package."""
