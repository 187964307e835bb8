"""journeyman evals package."""
