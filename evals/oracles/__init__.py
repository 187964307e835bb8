"""Oracle solutions: each task solved by tool calls only, to prove it solvable."""
