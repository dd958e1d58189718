"""Every core: a function over many items in worker processes, results in source order.

:func:`ordered_map` is what ``--jobs N`` runs documents through. The parent does little
per item: it sends small batches of items (consecutive small documents go together, up
to :data:`BATCH_WEIGHT` bytes of source, so that a corpus of many small files does not
pay a round trip per file), and receives what each worker made of them, ready to use
(for ``cut``, the rows already encoded as bytes: the parent only writes them). Each
worker has its own pipe; the parent hands the next batch to whichever worker is free,
so a large document on one worker does not stop the others.

Memory stays bounded by a few documents whatever the size of the corpus: at most
:data:`WINDOW_PER_JOB` batches a worker, and :data:`WEIGHT_PER_JOB` bytes of source a
worker, are in flight (sent and not yet consumed). Results come back in the order of
the items, so the output of ``--jobs 2`` is the output of ``--jobs 1``, byte for byte.

The workers ignore Ctrl-C (SIGINT reaches the whole process group): the parent alone
handles it, cancels what is queued (a flag in shared memory the workers read before each
item), lets each worker finish the one item it holds, and waits for them to exit, so an
interrupt leaves no worker process behind.

A worker dies with its parent (Linux: ``PR_SET_PDEATHSIG``). A forked worker holds copies
of the parent's open sockets: after a ``kill -9`` of ``iucut apply`` a surviving worker
would keep the parent's database connection open, its transaction and its document lock
with it, and the next apply would wait on that lock for ever.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from iucut.errors import ConfigError

if TYPE_CHECKING:  # multiprocessing is imported when a pool starts: start-up stays short
    import multiprocessing.context
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

T = TypeVar("T")
R = TypeVar("R")

#: Batches in flight per worker: enough to keep every worker busy while the parent
#: consumes results in order (and a large document holds one worker), few enough to
#: bound memory (the weight bound below binds first for all but light batches). At 4,
#: a large document at the head left the other worker idle once it had done 7 light
#: batches: cutting the shared laws lost 0.14-0.17 s of ~1.1 s on two cores (a replay
#: of each document's cut time through this scheduler); at 8, 0.02 s.
WINDOW_PER_JOB = 8
#: Bytes of source in flight per worker (by the items' ``weight``), past which no more
#: is sent than one batch a worker: memory is a few documents, not the corpus.
WEIGHT_PER_JOB = 4 * 1024 * 1024
#: Consecutive items are sent together up to this weight (bytes of source) ...
BATCH_WEIGHT = 128 * 1024
#: ... or this many items.
BATCH_ITEMS = 32
#: Batches sent to one worker before its first result is back: it never waits for the
#: parent between two batches.
PREFETCH = 2


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


class WorkerDied(RuntimeError):
    """A worker process ended without sending its results (killed, or crashed)."""


def _worker_start(parent: int) -> None:
    """In each worker: ignore Ctrl-C (the parent handles it), and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
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


def _worker(
    conn: Connection,
    fn: Callable[[Any], Any],
    cancelled: Any,
    parent: int,
    others: list[Connection],
) -> None:
    """A worker's loop: ``(index, batch)`` in, ``(index, [(ok, result or exception)…])``
    out, until None. The batch stops at an item that raised, or when cancelled."""
    _worker_start(parent)
    for other in others:  # the parent's ends of the pipes: not this process's to hold
        other.close()
    import pickle

    while True:
        try:
            task = conn.recv()
        except Exception:  # the parent is gone, or stopped half way through a send
            return
        if task is None:
            return
        index, batch = task
        out: list[tuple[bool, Any]] = []
        for item in batch:
            if cancelled.value:
                break
            try:
                out.append((True, fn(item)))
            except Exception as exc:
                out.append((False, exc))
                break
        try:
            data = pickle.dumps((index, out), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a result that does not pickle: an error at the batch
            data = pickle.dumps((index, [(False, RuntimeError(f"cannot send a result: {exc}"))]))
        try:
            conn.send_bytes(data)
        except OSError:
            return


class _Pool(Generic[T, R]):
    """Worker processes, each on its own pipe, started as there is work for them."""

    def __init__(self, fn: Callable[[T], R], jobs: int):
        self.fn = fn
        self.jobs = jobs
        self.ctx: Any = _context()  # (fork or spawn: both have Process, Pipe, RawValue)
        self.cancelled = self.ctx.RawValue("b", 0)  # shared memory, read before each item
        self.conns: list[Connection] = []
        self.procs: list[BaseProcess] = []
        self.outstanding: list[int] = []  # batches sent to each worker, not yet back
        self.closed = False

    def start_worker(self) -> None:
        import gc

        # the parent's objects out of the collector's reach: a collection in the worker
        # would write to every page holding one, copying the parent's memory page by page
        gc.freeze()
        ours, theirs = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=_worker,
            args=(theirs, self.fn, self.cancelled, os.getpid(), [*self.conns, ours]),
            daemon=True,
            name=f"iucut-worker-{len(self.procs) + 1}",
        )
        proc.start()
        theirs.close()
        self.conns.append(ours)
        self.procs.append(proc)
        self.outstanding.append(0)

    def free_worker(self) -> int | None:
        """The worker to send the next batch to (starting one if all are busy), or None."""
        if self.procs:
            k = min(range(len(self.procs)), key=self.outstanding.__getitem__)
            if self.outstanding[k] == 0 or len(self.procs) == self.jobs:
                return k if self.outstanding[k] < PREFETCH else None
        self.start_worker()
        return len(self.procs) - 1

    def run(self, batches: Iterator[tuple[list[T], int]], close: bool = True) -> Iterator[R]:
        """The results of ``batches`` in their order; then the workers are stopped, or,
        with ``close`` false, kept for the next run (stopped anyway on an error or when
        the results are not all read)."""
        from multiprocessing.connection import wait

        jobs = self.jobs
        done: dict[int, list[tuple[bool, Any]]] = {}  # back from a worker, not yet yielded
        weights: dict[int, int] = {}  # sent and not yet yielded
        in_weight = 0
        sent = given = 0
        head = next(batches, None)
        try:
            while head is not None or given < sent:
                while head is not None and sent - given < WINDOW_PER_JOB * jobs:
                    if in_weight >= WEIGHT_PER_JOB * jobs and sent - given >= jobs:
                        break
                    k = self.free_worker()
                    if k is None:
                        break
                    batch, weight = head
                    try:
                        self.conns[k].send((sent, batch))
                    except OSError as exc:  # it died since its last result
                        raise self.died(k) from exc
                    self.outstanding[k] += 1
                    weights[sent] = weight
                    in_weight += weight
                    sent += 1
                    head = next(batches, None)
                if given in done:
                    outcomes = done.pop(given)
                    in_weight -= weights.pop(given)
                    given += 1
                    for ok, value in outcomes:
                        if not ok:
                            raise value
                        yield value
                    continue
                busy = [c for c, n in zip(self.conns, self.outstanding, strict=True) if n]
                for conn in cast("list[Connection]", wait(busy)):
                    k = self.conns.index(conn)
                    try:
                        index, outcomes = conn.recv()
                    except (EOFError, OSError) as exc:
                        raise self.died(k) from exc
                    self.outstanding[k] -= 1
                    done[index] = outcomes
        except BaseException:  # (an error, Ctrl-C, or the results left unread)
            self.close()
            raise
        if close:
            self.close()

    def died(self, k: int) -> WorkerDied:
        self.procs[k].join(1)
        return WorkerDied(
            f"a worker process ended without its results (exit code {self.procs[k].exitcode})"
        )

    def close(self) -> None:
        """Cancel what is queued, let each worker finish its item, wait until every
        worker process has exited (reading what they still send, so none blocks)."""
        from multiprocessing.connection import wait

        self.closed = True

        self.cancelled.value = 1
        try:
            for conn in self.conns:
                with contextlib.suppress(OSError):  # (a worker that died)
                    conn.send(None)
            # read as raw bytes (an interrupt may have stopped a message half read)
            live = [conn.fileno() for conn in self.conns]
            while live:
                for fd in cast("list[int]", wait(live)):
                    try:
                        more = os.read(fd, 1 << 20)
                    except OSError:
                        more = b""
                    if not more:  # the worker has exited (it held the other end)
                        live.remove(fd)
            for proc in self.procs:
                proc.join()
        except BaseException:  # a second Ctrl-C while waiting: no worker outlives this
            for proc in self.procs:
                proc.kill()
                proc.join()
            raise
        finally:
            for conn in self.conns:
                conn.close()


def _batches(
    items: Iterable[T], weight: Callable[[T], int] | None
) -> Iterator[tuple[list[T], int]]:
    """Consecutive items in batches of at most :data:`BATCH_WEIGHT` (an item heavier
    goes alone) and :data:`BATCH_ITEMS`; without ``weight``, one item a batch."""
    batch: list[T] = []
    total = 0
    for item in items:
        cost = BATCH_WEIGHT if weight is None else max(0, weight(item))
        if batch and (total + cost > BATCH_WEIGHT or len(batch) >= BATCH_ITEMS):
            yield batch, total
            batch, total = [], 0
        batch.append(item)
        total += cost
    if batch:
        yield batch, total


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    jobs: int | None = 1,
    *,
    weight: Callable[[T], int] | None = None,
) -> Iterator[R]:
    """``fn(item)`` for each item, in the order of the items, by ``jobs`` worker processes
    (1: in this process, no worker; None or 0: one per CPU available).

    ``fn`` should return its errors rather than raise them: an exception it raises is
    raised here, at its item, after the items before it, and stops the map. ``fn``, the
    items and the results cross between processes (pickled: a module-level function, a
    ``functools.partial`` of one; results are best small, or bytes). ``weight(item)``:
    its cost, in bytes of source; light items are sent to a worker together, and the
    weight in flight is bounded (without it, one item at a time, the count bounded).
    Workers are started as there is work for them: a map of one batch starts one.
    """
    workers = resolve_jobs(jobs)
    if workers <= 1:
        for item in items:
            yield fn(item)
        return
    yield from _Pool(fn, workers).run(_batches(items, weight))


class Workers(Generic[T, R]):
    """:func:`ordered_map` for several maps in a row on the same worker processes (a
    corpus read a window at a time): started at the first map with work for more than
    one of them, kept between maps, stopped at :meth:`close` (a ``with`` block), or
    when a map stops early. A new worker pays for what a process does once (compiling
    the cutting rules): ~0.4 s a window of 1,024 files when each window had its own."""

    def __init__(self, fn: Callable[[T], R], jobs: int | None = 1):
        self.fn = fn
        self.jobs = resolve_jobs(jobs)
        self.pool: _Pool[T, R] | None = None

    def map(self, items: Sequence[T], *, weight: Callable[[T], int] | None = None) -> Iterator[R]:
        """``fn(item)`` for each item, in their order (one item, or one job: here)."""
        if self.jobs <= 1 or len(items) <= 1:
            for item in items:
                yield self.fn(item)
            return
        if self.pool is None or self.pool.closed:
            self.pool = _Pool(self.fn, self.jobs)
        yield from self.pool.run(_batches(items, weight), close=False)

    def close(self) -> None:
        if self.pool is not None and not self.pool.closed:
            self.pool.close()
        self.pool = None

    def __enter__(self) -> Workers[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection for the length of a pass that makes a few small
    objects a file of the corpus and keeps them (digests, stat keys, rows): none of them
    is in a cycle, and each collection of the older generations walks every one made so
    far (~15 % of an unchanged re-sync's look-ups at 24,000 files). Collection resumes
    after it as it was (nested pauses keep it off until the outermost ends)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
