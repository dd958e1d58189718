"""``ordered_map`` under ``--jobs``: small items go to a worker together, results come in
item order whatever order the workers finish in, what is in flight is bounded by count
and by weight, a worker that dies is an error (not a hang), and a map stopped early with
large results on their way leaves no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from iucut import parallel
from iucut.parallel import BATCH_ITEMS, BATCH_WEIGHT, WorkerDied, _batches, ordered_map


def _slow_when_even(n: int) -> tuple[int, int]:
    """Even items take longer: a worker with odd ones finishes them first."""
    time.sleep(0.02 if n % 2 == 0 else 0.0)
    return n, os.getpid()


def test_batches_gather_light_items_and_leave_heavy_ones_alone() -> None:
    """Consecutive light items share a batch up to BATCH_WEIGHT or BATCH_ITEMS; an item
    heavier than that goes alone; no weight: one item a batch."""
    weights = [10] * (BATCH_ITEMS + 5) + [BATCH_WEIGHT * 3] + [BATCH_WEIGHT // 2] * 3
    batches = list(_batches(range(len(weights)), weights.__getitem__))
    assert [len(b) for b, _ in batches] == [BATCH_ITEMS, 5, 1, 2, 1]
    assert [i for b, _ in batches for i in b] == list(range(len(weights)))
    assert batches[2][1] == BATCH_WEIGHT * 3
    assert [len(b) for b, _ in _batches(range(4), None)] == [1, 1, 1, 1]


def test_results_come_in_item_order_from_batches_finished_out_of_order() -> None:
    """Weighted items in batches on 2 and 3 workers: item order, every worker used."""
    items = list(range(200))
    for jobs in (2, 3):
        got = list(ordered_map(_slow_when_even, items, jobs, weight=lambda n: BATCH_WEIGHT // 3))
        assert [n for n, _ in got] == items
        assert len({pid for _, pid in got}) == jobs
        assert os.getpid() not in {pid for _, pid in got}


def _first_is_slow(n: int) -> int:
    if n == 0:
        time.sleep(1.0)
    return n


def _drawn_before_first(weight: int | None) -> int:
    drawn = []

    def items():  # type: ignore[no-untyped-def]
        for n in range(100):
            drawn.append(n)
            yield n

    results = ordered_map(
        _first_is_slow, items(), 2, weight=None if weight is None else (lambda n: weight)
    )
    assert next(results) == 0
    count = len(drawn)
    assert list(results) == list(range(1, 100))
    return count


def test_in_flight_is_bounded_by_count_and_by_weight() -> None:
    """While the first item is slow, the map draws at most WINDOW_PER_JOB batches a
    worker (plus the batch being made and the one looked ahead), and no more than the
    weight bound of heavy items: a few documents in memory, not the corpus. Light
    items go on meanwhile: the other worker is not held by the slow one for 15 more."""
    drawn = _drawn_before_first(None)
    assert 8 * 2 <= drawn <= 8 * 2 + 2  # (WINDOW_PER_JOB is 8)
    heavy = parallel.WEIGHT_PER_JOB  # one item: a worker's share of the weight
    assert _drawn_before_first(heavy) <= 2 + 2


def _dies_at_five(n: int) -> int:
    if n == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def test_a_worker_that_dies_is_an_error_after_the_items_before_it() -> None:
    """A worker killed mid-map: WorkerDied, not a map waiting for ever."""
    got: list[int] = []
    with pytest.raises(WorkerDied, match="exit code -9"):
        for n in ordered_map(_dies_at_five, range(40), 2):
            got.append(n)
    assert got == list(range(len(got))) and len(got) <= 5


def test_stopping_early_with_large_results_on_their_way_leaves_no_worker() -> None:
    """The consumer stops after one result while the workers are blocked sending
    results larger than a pipe holds: the map ends at once and every worker exits."""
    script = textwrap.dedent(
        """
        import os, sys, time
        from iucut.parallel import ordered_map

        def big(n):
            return bytes(4_000_000)

        started = time.monotonic()
        results = ordered_map(big, range(50), 2)
        next(results)
        time.sleep(0.5)  # the workers fill their pipes and block
        results.close()
        children = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()
        print(len(children), round(time.monotonic() - started, 1))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    children, seconds = done.stdout.split()
    assert children == "0"
    assert float(seconds) < 20


def _pid(n: int) -> tuple[int, int]:
    time.sleep(0.005)
    return n, os.getpid()


def test_workers_are_kept_from_one_map_to_the_next() -> None:
    """``Workers``: maps in a row (a corpus read a window at a time) run on the same
    worker processes, each map's results in its items' order; a map stopped early stops
    them, and the next map starts new ones; one item is mapped here."""
    with parallel.Workers(_pid, 2) as workers:
        first = list(workers.map(list(range(40))))
        second = list(workers.map(list(range(40, 80))))
        assert [n for n, _ in first] == list(range(40))
        assert [n for n, _ in second] == list(range(40, 80))
        pids = {pid for _, pid in first}
        assert len(pids) == 2 and os.getpid() not in pids
        assert {pid for _, pid in second} == pids
        assert list(workers.map([99])) == [(99, os.getpid())]
        stopped = workers.map(list(range(40)))
        next(stopped)
        stopped.close()
        third = list(workers.map(list(range(40))))
        assert not {pid for _, pid in third} & pids
    assert workers.pool is None
