"""No test fails on timing: an upper bound on a measured duration is flaky on a shared machine.

Speed belongs in `bench/` (scripts that print tables); a test may guard against a hang with a
timeout, and may check a lower bound ("the pause took its time"), which load only makes truer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
TIMING_NAME = re.compile(r"(wall|elapsed|took|duration|latency|runtime_s|^p\d{2,3}$|percentile)",
                         re.IGNORECASE)
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns", "time_ns"}


def _is_clock_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCKS and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "time")


def _is_measured_duration(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return bool(TIMING_NAME.search(node.id))
    if isinstance(node, ast.Attribute):
        return bool(TIMING_NAME.search(node.attr))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        return _is_clock_call(node.left) or _is_measured_duration(node.left)
    return False


def upper_bounds_on_time(source: str) -> list[int]:
    """Line numbers of comparisons that fail when something measured took too long."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
            if ((isinstance(op, ast.Lt | ast.LtE) and _is_measured_duration(left))
                    or (isinstance(op, ast.Gt | ast.GtE) and _is_measured_duration(right))):
                found.append(node.lineno)
    return found


def test_the_scanner_finds_the_shapes_that_made_tests_flaky() -> None:
    flaky = """
assert wall < 60
assert elapsed <= 2.5, "too slow"
assert 5 > took
assert time.monotonic() - started < 1
assert result.duration_seconds < 3
assert p95 is not None and p95 < 120
"""
    assert upper_bounds_on_time(flaky) == [2, 3, 4, 5, 6, 7]


def test_the_scanner_lets_lower_bounds_and_timeouts_through() -> None:
    fine = """
assert elapsed >= 10 / SPEED
assert t.mean_duration_seconds is not None and t.mean_duration_seconds > 0
while time.monotonic() < deadline:
    pass
call.wait_until_heard("Menu", timeout=60)
"""
    assert upper_bounds_on_time(fine) == []


def test_no_test_asserts_an_upper_bound_on_a_measured_duration() -> None:
    offenders = [f"{path.relative_to(TESTS.parent)}:{line}"
                 for path in sorted(TESTS.rglob("*.py")) if path != Path(__file__).resolve()
                 for line in upper_bounds_on_time(path.read_text(encoding="utf-8"))]
    assert offenders == [], ("timing belongs in bench/, not in a pass/fail test: "
                             + ", ".join(offenders))


# A wait for something that must happen is a hang guard, and a guard is generous: the e2e and
# browser suites ran 10 s guards that a loaded 2-core machine could outlast. Waits for what
# must *not* happen (`never`, Playwright's `not_to_*`) are bounded on purpose and left alone.
# (`wait` alone is a process or an event being stopped or joined, not a condition awaited.)
WAIT_NAME = re.compile(r"^(wait_\w+|settle|to_\w+)$")
HANG_GUARD_SECONDS = 60


def short_hang_guards(source: str) -> list[int]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if not WAIT_NAME.match(name):
            continue
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg != "timeout" or not isinstance(value, ast.Constant) \
                    or not isinstance(value.value, int | float):
                continue
            seconds = value.value / 1000 if name.startswith("to_") else value.value
            if seconds < HANG_GUARD_SECONDS:
                found.append(node.lineno)
    return found


def test_the_guard_scanner_finds_short_waits_and_spares_negative_ones() -> None:
    source = """
call.wait_until_heard("Menu", timeout=10)
live.wait_for(lambda: done, timeout=60)
expect(row).to_have_count(1, timeout=15_000)
expect(row).not_to_be_visible(timeout=2_000)
live.never(lambda: rung, within=5, why="nobody is rung")
world.settle(check, timeout=5.0)
"""
    assert short_hang_guards(source) == [2, 4, 7]


def test_every_wait_for_what_must_happen_has_a_generous_hang_guard() -> None:
    offenders = [f"{path.relative_to(TESTS.parent)}:{line}"
                 for path in sorted(TESTS.rglob("*.py")) if path.name != Path(__file__).name
                 for line in short_hang_guards(path.read_text())]
    assert offenders == [], "hang guards under 60 s (a loaded machine can outlast them)"
