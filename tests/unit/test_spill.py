"""The spill (``cut --jobs``'s rows from the workers to the parent in shared memory): each
range holds what was put there, written out byte for byte to a file or a pipe, its pages
freed once written, and workers putting at once never share a range."""

from __future__ import annotations

import itertools
import os
import sys
import threading
from pathlib import Path

import pytest

from iucut.spill import Spill

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="memfd and sendfile: Linux")


def _chunks() -> list[bytes]:
    """Ranges of odd sizes (a page boundary inside most of them), each byte telling
    which chunk it belongs to."""
    return [bytes([65 + n % 26]) * (1 + n * 7919 % 20_011) for n in range(40)]


def _spill() -> Spill:
    spill = Spill.open()
    assert spill is not None
    return spill


def test_rows_reach_a_file_byte_for_byte_and_their_memory_is_freed(tmp_path: Path) -> None:
    """What was put comes out in the order asked, after what the file held; once
    written, the shared file holds no page (memory: only the rows in flight)."""
    spill = _spill()
    chunks = _chunks()
    ranges = [spill.put(c) for c in chunks]
    assert all(r is not None for r in ranges)
    assert os.fstat(spill.fd).st_blocks > 0
    out = tmp_path / "rows"
    with out.open("wb") as sink:
        sink.write(b"first\n")  # (buffered: it must come first)
        for where in reversed(ranges):
            assert where is not None
            spill.copy_to(sink, *where)
    assert out.read_bytes() == b"first\n" + b"".join(reversed(chunks))
    assert os.fstat(spill.fd).st_blocks == 0
    spill.close()


def test_rows_reach_a_file_opened_to_append(tmp_path: Path) -> None:
    """Into a file opened to append (``cut --json >> rows``), which sendfile refuses:
    the bytes are read and written instead, after what the file held."""
    spill = _spill()
    chunks = _chunks()
    ranges = [spill.put(c) for c in chunks]
    out = tmp_path / "rows"
    out.write_bytes(b"before\n")
    with out.open("ab") as sink:
        for where in ranges:
            assert where is not None
            spill.copy_to(sink, *where)
    assert out.read_bytes() == b"before\n" + b"".join(chunks)
    assert os.fstat(spill.fd).st_blocks == 0
    spill.close()


def test_rows_reach_a_pipe_intact(tmp_path: Path) -> None:
    """Into a pipe (``cut --json | …``) the bytes are the ones put, not pages zeroed
    by the freeing of their range while the pipe still held them."""
    spill = _spill()
    chunks = _chunks()
    ranges = [spill.put(c) for c in chunks]
    read, write = os.pipe()
    got: list[bytes] = []

    def drain() -> None:
        with os.fdopen(read, "rb") as pipe:
            got.append(pipe.read())

    reader = threading.Thread(target=drain)
    reader.start()
    with os.fdopen(write, "wb") as sink:
        for where in ranges:
            assert where is not None
            spill.copy_to(sink, *where)
    reader.join(30)
    assert got == [b"".join(chunks)]
    spill.close()


def test_workers_putting_at_once_never_share_a_range() -> None:
    """Two forked processes put chunks at the same time: every range holds its own
    chunk, whole (the reservation is one process's at a time)."""
    spill = _spill()
    read, write = os.pipe()
    pids = []
    for worker in range(2):
        pid = os.fork()
        if pid == 0:  # pragma: no cover (a child)
            try:
                os.close(read)
                for n in range(200):
                    data = bytes([worker + 1]) * (3000 + n)
                    where = spill.put(data)
                    assert where is not None
                    os.write(write, f"{worker} {n} {where[0]} {where[1]}\n".encode())
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(write)
    with os.fdopen(read) as lines:
        seen = [tuple(int(x) for x in line.split()) for line in lines]
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    assert len(seen) == 400
    ends = sorted((offset, offset + length) for _, _, offset, length in seen)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))  # no overlap
    for worker, n, offset, length in seen:
        assert os.pread(spill.fd, length, offset) == bytes([worker + 1]) * (3000 + n)
    spill.close()
