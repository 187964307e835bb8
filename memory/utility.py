"""An item's utility: the one formula, for Python and for SQL.

Utility is the smoothed (Laplace) success rate ``(s + 1) / (s + f + 2)``: 0.5 for an
unused item. Ranking reads it in Python (re-ranking hits, curation) and in SQL (ordering
strategic lessons and tool tips before they are loaded), so both are built from the same
two constants here instead of being written out in each place.
"""

from __future__ import annotations

PRIOR_SUCCESSES = 1
PRIOR_USES = 2


def utility(success: int, failure: int) -> float:
    """Smoothed success rate ``(s + 1) / (s + f + 2)``."""
    return (success + PRIOR_SUCCESSES) / (success + failure + PRIOR_USES)


def utility_sql(success: str = "success", failure: str = "failure") -> str:
    """The same formula as an SQL expression over two columns (floating-point division)."""
    return f"({success} + {PRIOR_SUCCESSES:.1f}) / ({success} + {failure} + {PRIOR_USES:.1f})"
