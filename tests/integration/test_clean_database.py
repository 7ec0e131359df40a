"""The fixtures' TRUNCATE survives a transaction from the previous test that is still finishing.

CI once went red on a deadlock: TRUNCATE locks every table in order while a late request thread
of the last test's server read two of them in another order, and PostgreSQL aborted the TRUNCATE.
"""

from __future__ import annotations

import threading

from sqlalchemy import text

from tests.support.services import clean_database
from warmline.models import Base
from warmline.runtime import Runtime


def test_truncate_picked_as_a_deadlock_victim_tries_again(runtime: Runtime) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables]
    first, later = tables[0], tables[-1]
    finished = threading.Event()
    failures: list[BaseException] = []

    def clean() -> None:
        try:
            clean_database(runtime)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
        finally:
            finished.set()

    with runtime.engine.connect() as straggler:
        straggler.execute(text("SET deadlock_timeout = '5s'"))  # so TRUNCATE's detector fires first
        straggler.execute(text(f'SELECT 1 FROM "{later}" LIMIT 1'))  # holds a share lock on `later`
        cleaner = threading.Thread(target=clean, daemon=True)
        cleaner.start()
        # Wait until TRUNCATE holds the first table and waits on `later`: then reading the first
        # table closes the cycle.
        with runtime.engine.connect() as observer:
            for _ in range(600):
                waiting = observer.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = "
                    f"'\"{later}\"'::regclass")).scalar_one()
                if waiting:
                    break
                finished.wait(0.05)
            assert waiting, "TRUNCATE never waited on the straggler's lock"
        straggler.execute(text(f'SELECT 1 FROM "{first}" LIMIT 1'))  # waits until TRUNCATE gives up
        straggler.commit()
    assert finished.wait(120), "clean_database did not finish"
    assert not failures, failures
