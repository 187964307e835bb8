"""Performance benchmarks (ratios measured in one run)."""
