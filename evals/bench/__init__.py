"""Benchmark runs: protocols over suites, resumable results, per-task isolation."""

from evals.bench.protocols import PhasePlan, plan_protocol
from evals.bench.records import (
    PROTOCOLS,
    IterationRecord,
    Manifest,
    ProtocolName,
    ProtocolRun,
    TaskKey,
    TaskResult,
)
from evals.bench.runner import (
    BenchConfig,
    BenchError,
    BenchEvent,
    BenchStopped,
    BenchSummary,
    run_bench,
)
from evals.bench.store import ResultsStore

__all__ = [
    "PROTOCOLS",
    "BenchConfig",
    "BenchError",
    "BenchEvent",
    "BenchStopped",
    "BenchSummary",
    "IterationRecord",
    "Manifest",
    "PhasePlan",
    "ProtocolName",
    "ProtocolRun",
    "ResultsStore",
    "TaskKey",
    "TaskResult",
    "plan_protocol",
    "run_bench",
]
