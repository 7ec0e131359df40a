"""The job table: every path it names is a job function that exists, and each is declared once."""

from __future__ import annotations

import importlib

from warmline import jobs


def _specs() -> list[jobs.JobSpec]:
    return [value for value in vars(jobs).values() if isinstance(value, jobs.JobSpec)]


def _is_callable(path: str) -> bool:
    module_name, _, attribute = path.rpartition(".")
    return callable(getattr(importlib.import_module(module_name), attribute, None))


def test_every_job_path_names_a_job_function() -> None:
    paths = [spec.path for spec in _specs()] + [entry.job for entry in jobs.RECURRING_JOBS]
    paths.append(jobs.RUN_RECURRING_PATH)
    assert all(path.startswith("workers.") for path in paths)
    assert [path for path in paths if not _is_callable(path)] == []


def test_each_job_is_declared_once() -> None:
    paths = [spec.path for spec in _specs()]
    assert len(paths) == len(set(paths))
    names = [entry.name for entry in jobs.RECURRING_JOBS]
    assert len(names) == len(set(names))
