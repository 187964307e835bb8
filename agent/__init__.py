"""journeyman agent package."""
