"""Every core: a function over many items in worker processes, results in source order.

:func:`ordered_map` is what ``--jobs N`` runs documents through: at most a few items
are in flight at once (a window of ``2 × jobs``), so memory stays bounded by a few
documents whatever the size of the corpus; results come back in the order of the
items, so the output of ``--jobs 2`` is the output of ``--jobs 1``, byte for byte.

The workers ignore Ctrl-C (SIGINT reaches the whole process group): the parent alone
handles it, cancels what is queued, lets each worker finish the one item it holds and
waits for them to exit, so an interrupt leaves no worker process behind.

A worker dies with its parent (Linux: ``PR_SET_PDEATHSIG``). A forked worker holds copies
of the parent's open sockets: after a ``kill -9`` of ``iucut apply`` a surviving worker
would keep the parent's database connection open, its transaction and its document lock
with it, and the next apply would wait on that lock for ever.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

from iucut.errors import ConfigError

if TYPE_CHECKING:  # multiprocessing is imported when a pool starts: start-up stays short
    import multiprocessing.context
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

#: Items in flight per worker: enough to keep every worker busy while the parent
#: consumes results in order, few enough to bound memory.
WINDOW_PER_JOB = 2


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    """The number of workers for ``jobs``: None or 0 means the CPUs available."""
    if jobs is None or jobs == 0:
        return available_cpus()
    if jobs < 0:
        raise ConfigError(f"--jobs must be 0 (the CPUs available) or more, not {jobs}")
    return jobs


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _worker_start(parent: int) -> None:
    """In each worker: ignore Ctrl-C (the parent handles it), and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        import contextlib
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # (a libc without prctl)
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    # fork: a worker starts in milliseconds with everything imported; the child runs
    # only the cutting function (no lock another thread of the parent could hold)
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")  # pragma: no cover


def ordered_map(fn: Callable[[T], R], items: Iterable[T], jobs: int | None = 1) -> Iterator[R]:
    """``fn(item)`` for each item, in the order of the items, by ``jobs`` worker processes
    (1: in this process, no worker; None or 0: one per CPU available).

    ``fn`` and the items must pickle (a module-level function, a ``functools.partial``
    of one); ``fn`` should return its errors rather than raise them: an exception it
    raises is raised here, at its item, after the items before it, and stops the map.
    """
    workers = resolve_jobs(jobs)
    if workers <= 1:
        for item in items:
            yield fn(item)
        return
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        workers, mp_context=_context(), initializer=_worker_start, initargs=(os.getpid(),)
    )
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers * WINDOW_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # on an error, Ctrl-C or the consumer stopping early: drop what is queued, let
        # each worker finish its item, and wait until every worker process has exited
        pool.shutdown(wait=True, cancel_futures=True)
