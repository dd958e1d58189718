"""Bytes made in worker processes handed to the parent without crossing a pipe.

``cut --jobs N -o FILE`` (or ``--json``) makes about three bytes of rows for each byte of
source: 106 MB for the shared laws. Sent through a worker's pipe, every byte was copied
five times (pickled, written to the pipe, read from it, gathered, unpickled) and then
written by the parent: 0.27 s of the parent's 0.6 s of CPU, and ~0.3 s of the workers',
on the two cores that cut.

A :class:`Spill` is one anonymous in-memory file (``memfd``) shared by the parent and the
workers it forks: a worker writes a document's rows into a range of it that it reserves
(a POSIX lock held for the reservation only) and sends the parent the range; the parent
copies the range to its destination inside the kernel (``sendfile``: no copy through
Python) and frees its pages at once (a hole punched), so the file holds only the rows in
flight: memory is a few documents, as before. Linux only; elsewhere, or where a step is
refused, the bytes go the old way; to anything but a regular file (a pipe, a terminal),
they are read and written (two copies, not six).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from typing import IO

#: ``fallocate`` mode: free the pages of a range, the file's size unchanged.
_PUNCH_HOLE = 0x02 | 0x01  # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
#: sendfile's refusals for a destination it cannot write to (a terminal, a file system
#: without splice): the bytes are then read and written.
_NO_SENDFILE = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV, errno.ESPIPE)


#: Ranges start on a page and take whole pages.
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _pages(length: int) -> int:
    return -(-length // PAGE) * PAGE


class Spill:
    """One shared in-memory file: :meth:`put` in a worker, :meth:`copy_to` in the parent."""

    def __init__(self, fd: int, punch: object):
        self.fd = fd
        self._punch = punch  # libc's fallocate
        self._sendfile: bool | None = None  # (decided by the first destination)

    @classmethod
    def open(cls) -> Spill | None:
        """A spill to share with the workers forked from now on, or None where there can
        be none (not Linux, no memfd, no hole punching)."""
        if sys.platform != "linux" or not hasattr(os, "memfd_create"):
            return None  # pragma: no cover
        import ctypes

        try:
            fallocate = ctypes.CDLL(None, use_errno=True).fallocate
            fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
            fd = os.memfd_create("iucut-rows", os.MFD_CLOEXEC)
        except (OSError, AttributeError):  # pragma: no cover
            return None
        spill = cls(fd, fallocate)
        try:
            os.ftruncate(fd, PAGE)
            spill.free(0, PAGE)
        except OSError:  # pragma: no cover
            spill.close()
            return None
        return spill

    def put(self, data: bytes) -> tuple[int, int] | None:
        """In a worker: ``data`` written to a range of its own, returned as ``(offset,
        length)``; None when it could not be (the caller sends the bytes instead)."""
        import fcntl

        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX)  # (per process: shared by no fork)
            try:
                offset = os.fstat(self.fd).st_size
                os.ftruncate(self.fd, offset + _pages(len(data)))
            finally:
                fcntl.lockf(self.fd, fcntl.LOCK_UN)
            view = memoryview(data)
            done = 0
            while done < len(data):
                done += os.pwrite(self.fd, view[done:], offset + done)
        except OSError:
            return None
        return offset, len(data)

    def copy_to(self, out: IO[bytes], offset: int, length: int) -> None:
        """In the parent: the range ``(offset, length)`` written to ``out`` (at its
        position), then freed. An error writing ``out`` is raised as it comes."""
        out.flush()  # (what ``out`` holds goes first)
        if self._sendfile is None:
            # a regular file only: into a pipe, sendfile lends the pipe the very pages
            # (no copy), and the hole punched below would zero some before they are read
            self._sendfile = stat.S_ISREG(os.fstat(out.fileno()).st_mode)
        start, end = offset, offset + length
        while start < end and self._sendfile:
            try:
                sent = os.sendfile(out.fileno(), self.fd, start, end - start)
            except OSError as exc:
                if exc.errno not in _NO_SENDFILE or start != offset:
                    raise
                self._sendfile = False  # (this destination takes no sendfile: not again)
                break
            if sent == 0:  # pragma: no cover (the range is within the file)
                raise OSError(errno.EIO, "sendfile wrote nothing")
            start += sent
        while start < end:
            chunk = os.pread(self.fd, min(end - start, 1 << 20), start)
            if not chunk:  # pragma: no cover
                raise OSError(errno.EIO, "short read of the rows in memory")
            out.write(chunk)
            start += len(chunk)
        self.free(offset, length)

    def free(self, offset: int, length: int) -> None:
        """The pages of a range given back to the system (whole pages: each range has
        pages of its own, so that no page half freed stays behind)."""
        length = _pages(length)
        if length and self._punch(self.fd, _PUNCH_HOLE, offset, length) != 0:  # type: ignore[operator]
            import ctypes

            code = ctypes.get_errno()
            raise OSError(code, f"cannot free rows in memory: {os.strerror(code)}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
