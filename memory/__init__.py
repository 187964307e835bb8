"""journeyman memory package."""
