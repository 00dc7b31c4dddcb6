"""How much of a test run is set-up: runs pytest on a subset in this process and prints the
median set-up time per test (wall, and this process's CPU time, which a busy shared machine
disturbs less), the totals per phase and the wall time.

    python bench/setup_bench.py [pytest paths...]        # SQLite
    LAGESBILD_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        python bench/setup_bench.py                      # PostgreSQL
"""
from __future__ import annotations

import statistics
import sys
import time

import pytest

DEFAULT_PATHS = ["tests/contributions", "tests/periods", "tests/audit"]


class PhaseTimes:
    def __init__(self):
        self.phases: dict[str, list[float]] = {"setup": [], "call": [], "teardown": []}
        self.cpu: dict[str, list[float]] = {"setup": [], "call": [], "teardown": []}
        self.failed = 0

    def _timed(self, phase: str):
        started = time.process_time()
        yield
        self.cpu[phase].append(time.process_time() - started)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item):
        yield from self._timed("setup")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        yield from self._timed("call")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item):
        yield from self._timed("teardown")

    def pytest_runtest_logreport(self, report):
        self.phases[report.when].append(report.duration)
        if report.failed:
            self.failed += 1


def main(argv: list[str]) -> int:
    paths = argv or DEFAULT_PATHS
    times = PhaseTimes()
    started = time.perf_counter()
    code = pytest.main([*paths, "-q", "-p", "no:cacheprovider"], plugins=[times])
    wall = time.perf_counter() - started
    setups = times.phases["setup"]
    if not setups:
        return code
    total = sum(sum(values) for values in times.phases.values())
    calls = sum(times.phases["call"])
    print(f"\ntests: {len(setups)}, failed: {times.failed}")
    print(f"set-up per test: median {statistics.median(setups) * 1000:.1f} ms, "
          f"p90 {statistics.quantiles(setups, n=10)[-1] * 1000:.1f} ms")
    print(f"totals: set-up {sum(setups):.1f} s, call {calls:.1f} s, "
          f"teardown {sum(times.phases['teardown']):.1f} s "
          f"(set-up + teardown {100 * (total - calls) / total:.0f} % of test time)")
    cpu_setups = times.cpu["setup"]
    print(f"CPU of this process: set-up per test median "
          f"{statistics.median(cpu_setups) * 1000:.1f} ms, totals set-up {sum(cpu_setups):.1f} s,"
          f" call {sum(times.cpu['call']):.1f} s, teardown {sum(times.cpu['teardown']):.1f} s")
    print(f"wall: {wall:.1f} s, CPU of this process: {time.process_time():.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
