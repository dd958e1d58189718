"""Where documents come from: files and directories, globbed, read as bytes, cut one by one.

Every document's path is relative to the project root (:mod:`iucut.project`), so the
same file has the same identity from any working folder and through any path form.
What a listing passes over (a folder, a dangling link, a FIFO matching the glob; a
given file that the glob does not name; iucut's own reports) is returned with the
reason, for the caller to report: nothing is skipped without a word.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, groupby, islice
from operator import itemgetter
from pathlib import Path, PurePath
from typing import Any, TypeVar

from iucut.errors import InputError
from iucut.parallel import Workers, gc_paused, ordered_map, resolve_jobs
from iucut.project import ProjectRoot, find_root
from iucut.units import CutDocument

DEFAULT_GLOB = "**/*.md"
#: iucut's own report files (``prove``/``doctor --report``): never source documents.
REPORT_NAMES = ("proof-*.md", "doctor.md")


@dataclass
class Sources:
    """The files to cut, as ``(file, folder given)`` pairs, and what was passed over
    (each file a :class:`~pathlib.Path`, or its string from ``list_sources(as_text=True)``:
    a Path object a file of a corpus costs 5 µs to make and 3x the memory)."""

    files: list[tuple[Path | str, Path | None]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (path, why)

    def warnings(self) -> list[str]:
        """One line per path passed over: ``PATH: why``."""
        return [f"{path}: {why}" for path, why in self.skipped]


def list_sources(
    paths: Iterable[str | Path], glob: str = DEFAULT_GLOB, *, as_text: bool = False
) -> Sources:
    """The files to cut, in a stable order, and the paths passed over with the reason.

    A directory gives its regular files matching ``glob`` (sorted); folders, dangling
    links, link loops, FIFOs and other special files that match are passed over (and
    listed), and so are iucut's own reports when ``glob`` is the default. A file gives
    itself when its name matches the last part of ``glob`` (so ``data.csv`` is passed
    over unless ``--glob`` names it). A missing path, or a given file that cannot be
    read as one (a FIFO), is kept, for the cut to report as bad input. ``as_text``:
    the files found in folders as strings (what ``str()`` of their Path gives).
    """
    found = Sources()
    for file, folder in walk_sources(paths, glob, found.skipped):
        found.files.append((file if as_text or folder is None else Path(file), folder))
    return found


class Batches:
    """A listing given a run of files at a time (:func:`walk_batches`): what
    :func:`cut_map` reads with no step of Python a file."""

    __slots__ = ("runs",)

    def __init__(self, runs: Iterable[list[tuple[str | Path, Path | None]]]) -> None:
        self.runs = runs

    def __iter__(self) -> Iterator[list[tuple[str | Path, Path | None]]]:
        return iter(self.runs)


def walk_sources(
    paths: Iterable[str | Path],
    glob: str = DEFAULT_GLOB,
    skipped: list[tuple[Path, str]] | None = None,
) -> Iterator[tuple[str | Path, Path | None]]:
    """The files of :func:`list_sources` as they are found, in the same order: a
    folder's as strings, a file given as its Path; each with the folder given (None for
    a file given). What is passed over goes to ``skipped`` (``(path, why)``). A folder
    is listed a folder at a time, the names of each folder sorted as its files' paths
    sort: the caller holds the names of the folders being walked, not the corpus."""
    return chain.from_iterable(walk_batches(paths, glob, skipped))


def walk_batches(
    paths: Iterable[str | Path],
    glob: str = DEFAULT_GLOB,
    skipped: list[tuple[Path, str]] | None = None,
) -> Iterator[list[tuple[str | Path, Path | None]]]:
    """:func:`walk_sources` a run of files at a time (a folder's files, or those between
    two of its folders; a file given alone): the same files in the same order, with no
    step of Python a file between the listing and the caller (a re-sync walks every
    file of the corpus). What is passed over in a run goes to ``skipped`` before the
    run is given."""
    last = PurePath(glob).name or glob
    # (a report's name, looked for in each file's base name in place: one match a file,
    # in a run where one of their fixed starts follows a separator somewhere)
    report = _REPORT_NAME.match if glob == DEFAULT_GLOB else None
    sep = os.sep
    for given in paths:
        path = Path(given)
        if path.is_dir():
            runs = _walk_runs(path, glob)
            if runs is None:  # (a glob the walk does not take: pathlib's)
                globbed: list[tuple[str, str | None]] = [(str(p), None) for p in path.glob(glob)]
                runs = iter([sorted(globbed, key=_first)])
            for run in runs:
                maybe = report
                if report is not None and _REPORT_MARKS is not None:
                    joined = sep + sep.join(map(_PATH, run))  # (each path after a separator)
                    if not any(mark in joined for mark in _REPORT_MARKS):
                        maybe = None  # (no base name starts as a report's: none is one)
                # (at once when every one is a regular file not named as a report)
                batch: list[tuple[str | Path, Path | None]] = [
                    (p, path)
                    for p, kind in run
                    if kind == "" and (maybe is None or maybe(p, p.rfind(sep) + 1) is None)
                ]
                if len(batch) < len(run):
                    batch = _looked_at(run, path, report, skipped)
                if batch:
                    yield batch
        elif os.path.lexists(path) and not fnmatch.fnmatchcase(path.name, last):
            if skipped is not None:
                example = f"*{path.suffix}" if path.suffix else path.name
                skipped.append(
                    (
                        path,
                        f"not named by --glob {glob!r} (not Markdown?); skipped: give a "
                        f"--glob that names it (e.g. --glob '{example}') to cut it",
                    )
                )
        else:
            yield [(path, None)]


def _looked_at(
    run: list[tuple[str, str | None]],
    folder: Path,
    report: Callable[[str, int], Any] | None,
    skipped: list[tuple[Path, str]] | None,
) -> list[tuple[str | Path, Path | None]]:
    """The files of a run of the walk that are files to cut (a stat tells when the
    directory entry does not), each with ``folder``; the others go to ``skipped``, with
    why (a folder or a link that is no file, iucut's own report)."""
    sep = os.sep
    found: list[tuple[str | Path, Path | None]] = []
    for p, kind in run:
        why = _not_a_file(Path(p)) if kind is None else kind or None
        if (
            why is None
            and report is not None
            and report(p, p.rfind(sep) + 1) is not None
            and _is_report(p)
        ):
            why = "an iucut report (prove/doctor --report), not a source document"
        if why is None:
            found.append((p, folder))
        elif skipped is not None:
            skipped.append((Path(p), f"{why}; skipped"))
    return found


def _first(item: tuple[str, str | None]) -> str:
    return item[0]  # (a Path's as_posix on POSIX)


def _walk(top: Path, glob: str) -> Iterator[tuple[str, str | None]] | None:
    """What ``top.glob(glob)`` matches for a glob ``**/NAME`` (NAME one part, no ``**``),
    sorted by path, in one ``os.scandir`` a folder as Python 3.11's pathlib walks it
    (links to folders not followed, a folder that cannot be listed passed over), each
    with what its directory entry says without a stat: ``""`` a regular file, the reason
    it is not a file to cut for a folder, None when only a stat can tell (a link,
    another kind): the listing of a corpus stats no regular file (its look-up in the
    root takes the one stat); None for another glob.

    Depth first, each folder's names sorted with a folder's contents under its name and
    a ``/`` (the order of the paths: ``a.md`` before ``a/``, ``a-b/x`` before ``a/x``),
    with a stack of folders, not recursion (a corpus may nest deep)."""
    runs = _walk_runs(top, glob)
    return None if runs is None else chain.from_iterable(runs)


def _walk_runs(top: Path, glob: str) -> Iterator[list[tuple[str, str | None]]] | None:
    """:func:`_walk` a run of files at a time (see :func:`_runs`); None for another glob."""
    head, _, name = glob.partition("/")
    if head != "**" or not name or "/" in name or "**" in name:
        return None
    match = re.compile(fnmatch.translate(name)).fullmatch
    return _runs(str(top), match)


def _runs(top: str, match: Callable[[str], Any]) -> Iterator[list[tuple[str, str | None]]]:
    """The matches under ``top`` in path order, a run at a time: the entries of a folder
    up to its next folder to walk, that folder's runs, then the rest (a folder with no
    folder in it is one run, as :func:`_folder` listed it)."""
    stack: list[tuple[list[tuple[str, str | None]], bool, int]] = [(*_folder(top, match), 0)]
    while stack:
        entries, mixed, at = stack.pop()
        if not mixed:
            if entries:
                yield entries
            continue
        start, n = at, len(entries)
        while at < n and entries[at][1] is not _DESCEND:
            at += 1
        if at > start:
            yield entries[start:at]
        if at < n:  # (the folder's contents before the rest of this one)
            stack.append((entries, True, at + 1))
            stack.append((*_folder(entries[at][0], match), 0))


#: a folder's entry that stands for what it holds (see :func:`_folder`)
_DESCEND = "/"


def _folder(text: str, match: Callable[[str], Any]) -> tuple[list[tuple[str, str | None]], bool]:
    """The matches in folder ``text`` and its folders to walk, in path order: ``(path,
    kind)`` (see :func:`_walk`), a folder to walk as ``(its path, _DESCEND)``; and
    whether there is a folder among them."""
    prefix = "" if text == "." else text if text.endswith("/") else text + "/"
    try:
        found = _entries(text or ".")
    except PermissionError:
        return [], False
    except OSError as exc:
        if exc.errno in _IGNORED:
            return [], False
        raise
    if not any(kind == _DIR for _, kind in found):  # (a folder of files: most of a corpus)
        found.sort()  # (by name: the names differ)
        files = [
            (prefix + name, "" if kind == _FILE else None) for name, kind in found if match(name)
        ]
        return files, False
    keyed: list[tuple[str, str, str | None]] = []
    for name, kind in found:
        if kind == _DIR:  # (what it holds sorts under its name and a "/")
            keyed.append((name + "/", prefix + name, _DESCEND))
            if match(name):
                keyed.append((name, prefix + name, "a folder matching the glob"))
        elif match(name):  # (a regular file, not a link to one: ""; else a stat tells)
            keyed.append((name, prefix + name, "" if kind == _FILE else None))
    keyed.sort(key=_first_of_three)  # (the keys differ: a name holds no "/")
    return [(path, kind) for _, path, kind in keyed], True


#: what :func:`_entries` says of a name
_OTHER, _FILE, _DIR = 0, 1, 2


def _scanned(folder: str) -> list[tuple[str, int]]:
    """The names in ``folder``, each with :data:`_FILE`, :data:`_DIR` (neither through
    a link) or :data:`_OTHER`, by ``os.scandir``'s directory entries (what
    ``iucut._stat.entries`` gives, compiled)."""
    with os.scandir(folder) as listing:
        return [
            (
                entry.name,
                _DIR if _entry_is(entry.is_dir) else _FILE if _entry_is(entry.is_file) else _OTHER,
            )
            for entry in listing
        ]


_entries: Callable[[str], list[tuple[str, int]]]
try:  # (compiled: the names and their kinds in one call, no object a name)
    from iucut._stat import entries as _entries
except ImportError:  # (no C compiler at install)
    _entries = _scanned


def _first_of_three(item: tuple[str, str, str | None]) -> str:
    return item[0]


#: errors pathlib's glob passes over (ENOENT, ENOTDIR, EBADF, ELOOP)
_IGNORED = (2, 20, 9, 40)


def _entry_is(test: Callable[..., bool]) -> bool:
    """``entry.is_dir``/``is_file`` without following links; an error is False."""
    try:
        return test(follow_symlinks=False)
    except OSError:
        return False


def iter_sources(
    paths: Iterable[str | Path], glob: str = DEFAULT_GLOB
) -> Iterator[tuple[Path, Path | None]]:
    """``(file, folder given)`` for each file to cut (see :func:`list_sources`), as the
    folders are walked (:func:`walk_sources`)."""
    for file, folder in walk_sources(paths, glob):
        yield Path(file), folder


def _not_a_file(path: Path) -> str | None:
    """Why a path a glob matched is not a file to cut, or None when it is one."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if os.path.islink(path):
            if exc.errno == 40:  # ELOOP
                return f"a link loop ({exc.strerror})"
            return f"a dangling link (to {os.readlink(path)})"
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return "a folder matching the glob"
    if not stat.S_ISREG(mode):
        return f"not a regular file ({_kind(mode)})"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "special file"


#: :data:`REPORT_NAMES` as one pattern (``fnmatchcase`` of each, in one match a file)
_REPORT_NAME = re.compile("|".join(f"(?:{fnmatch.translate(n)})" for n in REPORT_NAMES))
#: the fixed start of each of :data:`REPORT_NAMES` after a separator (a path whose base
#: name matches one holds it); None when a name starts with a wildcard
_REPORT_HEADS = tuple(re.split(r"[*?\[]", n, maxsplit=1)[0] for n in REPORT_NAMES)
_REPORT_MARKS = tuple(os.sep + h for h in _REPORT_HEADS) if all(_REPORT_HEADS) else None
#: the path of a listing's ``(path, kind)`` (without a step of Python)
_PATH = itemgetter(0)


def _is_report(path: str) -> bool:
    """Whether ``path`` is one of iucut's own reports: a report name with its JSON twin."""
    if _REPORT_NAME.match(path[path.rfind(os.sep) + 1 :]) is None:  # (its basename)
        return False
    return Path(path).with_suffix(".json").is_file()


def doc_path(path: Path, root: Path | None) -> str:
    """The document path of a file relative to the folder ``root`` (as given when not
    under it). The project root's :meth:`~iucut.project.ProjectRoot.doc_path` is what
    cut_paths uses: it also refuses files outside the root."""
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def cut_file(
    path: str | Path,
    *,
    root: Path | ProjectRoot | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
    follow_symlinks: bool = False,
) -> CutDocument:
    """Read one file and cut it (InputError when it cannot be read or cut, or lies
    outside the project root). ``root``: the project root or its folder (default:
    found from ``path``, see :func:`iucut.project.find_root`)."""
    path = Path(path)
    if not isinstance(root, ProjectRoot):
        root = find_root([path], given=root)
    name = root.doc_path(path, follow_symlinks=follow_symlinks)
    limit = max_document_bytes(config)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory", path=name)
        if not stat.S_ISREG(st.st_mode):  # reading a FIFO would wait for a writer forever
            raise InputError(f"not a regular file ({_kind(st.st_mode)}): refused", path=name)
        if st.st_size > limit:  # refused before reading: nothing of it is held in memory
            raise InputError(
                f"{st.st_size} bytes, over the limit of {limit} bytes for one document "
                "(max_document_bytes in the configuration, or IUCUT_MAX_DOCUMENT_BYTES)",
                path=name,
                hint="split the document, or raise the limit (configuration "
                "max_document_bytes or IUCUT_MAX_DOCUMENT_BYTES)",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    if len(data) > limit:  # it grew while we looked
        raise InputError(f"over the limit of {limit} bytes for one document", path=name)
    if not data.removeprefix(b"\xef\xbb\xbf").strip(b" \t\r\n"):
        what = "empty file" if not data else "nothing but white space or a byte order mark"
        raise InputError(
            f"empty document ({what}): nothing to cut",
            path=name,
            line=1,
            offset=0,
            hint="write the document, or delete the file (plan/apply --prune retire it)",
        )
    from iucut.cut.cutter import cut_text  # (a walk that cuts nothing imports no cutter)

    return cut_text(data, name, namespace=namespace, profile=profile, config=config)


#: The largest document cut by default: far below what one PostgreSQL value can carry
#: (a 200 MB document used to fail inside the server after minutes and gigabytes).
DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def max_document_bytes(config: Mapping[str, Any] | None) -> int:
    """The size limit of one document: configuration ``max_document_bytes`` (which the
    CLI fills from ``IUCUT_MAX_DOCUMENT_BYTES``), else 64 MiB."""
    value = (config or {}).get("max_document_bytes")
    if value is None:
        return DEFAULT_MAX_DOCUMENT_BYTES
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = 0
    if limit <= 0:
        from iucut.errors import ConfigError

        raise ConfigError(f"max_document_bytes must be a positive number of bytes, not {value!r}")
    return limit


def cut_paths(
    paths: Iterable[str | Path],
    *,
    glob: str = DEFAULT_GLOB,
    root: str | Path | ProjectRoot | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
    sources: Iterable[tuple[Path | str, Path | None]] | None = None,
    follow_symlinks: bool = False,
    jobs: int | None = 1,
) -> Iterator[CutDocument | InputError]:
    """Cut every source; a bad document yields its InputError and the others go on.

    Document paths are relative to the project root: ``root`` when given (a folder or a
    :class:`~iucut.project.ProjectRoot`), else the one :func:`iucut.project.find_root`
    finds for ``paths`` (``IUCUT_ROOT``, the nearest ``iucut.yaml``, the git work tree,
    the folder given) — the same identity as the CLI's. A file outside the root, or a
    link leading outside it (unless ``follow_symlinks``), yields an
    :class:`~iucut.project.OutsideRoot`. One document is in memory at a time.
    ``sources``: the ``(file, folder)`` pairs of :func:`list_sources` when the caller
    has listed them already (else they are listed from ``paths`` and ``glob``).
    ``jobs``: worker processes cutting at once (None or 0: one per CPU available); the
    documents still come in source order, a few of them in memory at a time.
    """
    return cut_map(
        _same,
        paths,
        glob=glob,
        root=root,
        namespace=namespace,
        profile=profile,
        config=config,
        sources=sources,
        follow_symlinks=follow_symlinks,
        jobs=jobs,
    )


def _same(item: CutDocument | InputError) -> CutDocument | InputError:
    return item


R = TypeVar("R")
#: ``folder_pass(document folder, names, packed stats)`` (:func:`_fast_lane`): a result
#: standing for every file of the folder (None: they are looked up), and what to call,
#: with their results in their order, when each of them is then known by its stat
#: (None: nothing)
FolderPass = Callable[
    [str, Sequence[str], Sequence[bytes | None]],
    tuple[Any, Callable[[list[Any]], object] | None],
]
#: ``known(doc_path, hash, stat key)``: what to yield for a file without cutting it (e.g.
#: its digest from a cache), or None to cut it; ``hash()`` reads the file and gives the
#: sha256 of its bytes, for the caller to call only when the stat alone does not settle it.
Known = Callable[[str, Callable[[], str], Any], R | None]


def cut_map(
    then: Callable[[CutDocument | InputError], R],
    paths: Iterable[str | Path],
    *,
    glob: str = DEFAULT_GLOB,
    root: str | Path | ProjectRoot | None = None,
    namespace: str | None = None,
    profile: str | None = None,
    config: Mapping[str, Any] | None = None,
    sources: Iterable[tuple[Path | str, Path | None]] | Batches | None = None,
    follow_symlinks: bool = False,
    jobs: int | None = 1,
    known: Known[R] | None = None,
) -> Iterator[R]:
    """As :func:`cut_paths`, with ``then`` applied to each document (or its error) where
    it was cut: in the worker process under ``jobs`` > 1, so that what the caller does
    with each document (encode its rows, check it, keep a summary) runs on every core
    and only its result crosses back. ``then`` must pickle (a module-level function).
    ``known(doc_path, hash, stat key)`` (:data:`Known`): what to yield for a file
    without cutting it (e.g. its digest from a cache), or None to cut it; it reads the
    file (``hash()``) only when the stat alone does not answer (see
    :mod:`iucut.digests`). A Digest cut here carries the stat key taken before its bytes
    were read."""
    paths = list(paths)
    # (a fresh copy: folders are resolved once in this pass, and afresh in the next)
    project = root.fresh() if isinstance(root, ProjectRoot) else find_root(paths, given=root)
    # (as strings: a Path object a file of the corpus is ~3x the size of its string)
    listed = list_sources(paths, glob).files if sources is None else sources
    files: Iterable[str] = (
        chain.from_iterable([os.fspath(p) for p, _ in run] for run in listed)
        if isinstance(listed, Batches)
        else (os.fspath(p) for p, _ in listed)
    )
    # a listing given as it is found (walk_sources) is read as it comes, a window at a
    # time; a list, at once (a pool of workers for all of it)
    window = WINDOW
    if isinstance(listed, Sequence):
        files = list(files)
        window = max(len(files), 1)
    work = functools.partial(
        _cut_then,
        then=then,
        root=project,
        namespace=namespace,
        profile=profile,
        config=None if config is None else dict(config),
        follow_symlinks=follow_symlinks,
        known=known,
    )
    workers = resolve_jobs(jobs)
    if known is None or workers <= 1:
        # no worker to start for one file (or none): a pool costs more than it saves
        count = len(files) if isinstance(files, list) else workers
        return ordered_map(work, files, min(workers, max(count, 1)), weight=_size)
    # the files known by their stat (a look-up, no read) or by the hash of their bytes
    # (--rehash, a touch, a fresh clone) are answered here: sending each to a worker costs
    # more than reading and hashing it (~0.4 ms a file of pickling and waking a worker);
    # the others, to be cut, go to the workers
    # (a relative name looked at as the absolute one, made once a pass here: ``located``
    # then keeps its folder from file to file instead of asking the working folder)
    cwd = os.path.join(os.getcwd(), "")
    limit = max_document_bytes(config)
    look = functools.partial(
        _known,
        root=project,
        config=config,
        follow_symlinks=follow_symlinks,
        known=known,
        limit=limit,
    )
    fast_run = getattr(known, "fast_run", None)
    lane: Callable[[list[str], list[Any]], None] | None = None
    if fast_run is not None:
        from iucut.digests import packed_lstats

        lane = functools.partial(
            _fast_lane,
            named=project.named,
            fast_run=fast_run,
            limit=limit,
            lstats=packed_lstats,
            look=look,
            folder_pass=getattr(known, "folder_pass", None),
        )
    return _windows(
        files, window, functools.partial(_answers, cwd=cwd, lane=lane, look=look), work, workers
    )


#: The files of a listing read as it comes looked up at once (then the rest cut by the
#: workers, in source order): what the client holds of the corpus at a time.
WINDOW = 1024
#: A window goes on to the end of its last file's folder, up to this many windows more
#: (a folder's files looked up together can be passed at once: :func:`_fast_lane`)
FOLDER_WINDOWS = 16


def _answers(
    paths: list[str],
    *,
    cwd: str,
    lane: Callable[[list[str], list[Any]], None] | None,
    look: Callable[..., tuple[Any, Any]],
) -> list[Any]:
    """What is known of each file without cutting it (its look-up), or None: by the
    lane a folder at a time (:func:`_fast_lane`), the rest one by one."""
    absolute = [path if path[:1] == "/" else cwd + path for path in paths]
    ready: list[Any] = [None] * len(absolute)
    if lane is not None:
        lane(absolute, ready)
    else:
        for i, path in enumerate(absolute):
            ready[i] = look(path)[0]
    return ready


def _windows(
    files: Iterable[str],
    window: int,
    answer: Callable[[list[str]], list[R | None]],
    work: Callable[[str], R],
    workers: int,
) -> Iterator[R]:
    """The results of ``files`` in source order, ``window`` files at a time (and the rest
    of the last one's folder, up to :data:`FOLDER_WINDOWS` windows more): looked up
    (``answer``: a list, None for each file not known), the rest cut by the workers."""
    it = iter(files)
    sep = os.sep
    after: list[str] = []  # (the first file of the next window, once read)
    with Workers(work, workers) as pool:  # (one pool for every window)
        while chunk := [*after, *islice(it, window - len(after))]:
            after = []
            if len(chunk) == window:  # (a folder's files in one window: see _fast_lane)
                head = chunk[-1][: chunk[-1].rfind(sep) + 1]
                for path in islice(it, window * FOLDER_WINDOWS):
                    if path[: path.rfind(sep) + 1] != head:
                        after = [path]
                        break
                    chunk.append(path)
            with gc_paused():
                ready = answer(chunk)
            rest = [p for p, r in zip(chunk, ready, strict=True) if r is None]
            del chunk
            yield from _merged(ready, pool.map(rest, weight=_size))


def _size(path: str | Path) -> int:
    """The bytes of a file, what cutting it costs (0 when it cannot be read: it will be
    reported, cheaply)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


#: what ``ready`` holds for a file that a result before it stands for (a folder passed
#: at once: :func:`_fast_lane`): nothing is yielded for it
COVERED: Any = object()


def _merged(ready: list[R | None], rest: Iterator[R]) -> Iterator[R]:
    """The results in source order: those ``ready`` (but :data:`COVERED`), and the next
    of ``rest`` for each None among them."""
    try:
        for found in ready:
            if found is None:
                yield next(rest)
            elif found is not COVERED:
                yield found
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()


def _known(
    path: str | Path,
    root: ProjectRoot,
    config: Mapping[str, Any] | None,
    follow_symlinks: bool,
    known: Known[R],
    limit: int | None = None,
) -> tuple[R | None, Any]:
    """``known`` for a regular file within the limits (anything else is cut, to be
    reported as cut_file reports it), and the file's stat key taken before any read
    (None when it could not be taken). ``known`` gets the sha256 of the bytes as a
    function to call: it reads and hashes the file only when it holds an entry for it
    that the stat alone does not settle (a file it never saw is not read here: it is
    read once, where it is cut)."""
    from iucut.digests import stat_key

    try:
        # (the stat the path's look took, when the file is not a link: one stat a file)
        name, st = root.located(path, follow_symlinks=follow_symlinks)
        if st is None:
            st = os.stat(path)
        if limit is None:
            limit = max_document_bytes(config)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None, None
        key = stat_key(st)  # before reading: the bytes read are as new as this or newer
        return known(name, lambda: hashlib.sha256(Path(path).read_bytes()).hexdigest(), key), key
    except (OSError, InputError):
        return None, None


def _fast_lane(
    paths: list[str],
    ready: list[Any],
    *,
    named: Callable[[str], tuple[str, str] | None],
    fast_run: Callable[[Sequence[str], Sequence[bytes | None], list[Any], int], int],
    limit: int,
    lstats: Callable[[str, Sequence[str], int], list[bytes | None]],
    look: Callable[..., tuple[Any, Any]],
    folder_pass: FolderPass | None = None,
) -> None:
    """``ready``: what is known of each of ``paths`` (absolute), in their order, a
    folder's files at a time (a corpus is listed so): their document paths from their
    folder (:meth:`~iucut.project.ProjectRoot.named` of the first), their stats packed
    as the cut cache keeps them by one call (:func:`~iucut.digests.packed_lstats`), then
    ``known.fast_run`` over them; each file that does not settle (a link, another kind
    of file, too large, an entry whose stat differs, none) is looked up in full
    (``look``) at its place before the files after it.

    ``folder_pass`` (:data:`FolderPass`), asked first for a folder whose files are all
    regular files within the limit: a result that stands for all of them (its first
    file's place holds it, the others :data:`COVERED`), or None, and what to call (with
    their results) when every one of them then settled by ``fast_run``."""
    sep = os.sep
    heads = [path[: path.rfind(sep) + 1] for path in paths]
    j = 0
    # (the runs of files of one folder, each counted without a step of Python a file)
    for head, run in groupby(heads):
        i, j = j, j + len(list(run))
        names = [path[len(head) :] for path in paths[i:j]]
        found = named(paths[i]) if head else None
        doc_paths: list[str] = []
        if found is None:  # (not a folder under the root: each file looked at alone)
            packed: list[bytes | None] = [None] * (j - i)
        else:
            # (the document path and the resolved path of the folder, from its first file)
            doc_head = found[0][: len(found[0]) - len(names[0])]
            real_head = found[1][: len(found[1]) - len(names[0])]
            packed = lstats(real_head, names, limit)
            # (a name holds no separator: its head ends at the last one)
            if "" in names or "." in names or ".." in names:
                for k, name in enumerate(names):
                    if name in ("", ".", ".."):
                        packed[k] = None  # (not a file's name: looked at alone)
        settled: Callable[[list[Any]], object] | None = None
        if folder_pass is not None and found is not None and None not in packed:
            whole, settled = folder_pass(doc_head, names, packed)
            if whole is not None:  # (the folder at once: nothing looked up)
                ready[i] = whole
                ready[i + 1 : j] = [COVERED] * (j - i - 1)
                continue
        if found is not None:  # (its files looked up by their document paths)
            doc_paths = [doc_head + name for name in names]
        out: list[Any] = [None] * (j - i)
        at = 0
        while at < j - i:
            at = fast_run(doc_paths, packed, out, at) if doc_paths else at
            if at < j - i:  # (a miss, in its place: looked up in full)
                out[at] = look(paths[i + at])[0]
                at += 1
                settled = None
        if settled is not None:  # (every file of the folder known by its stat)
            settled(out)
        ready[i:j] = out


def _cut_then(
    path: str | Path,
    *,
    then: Callable[[CutDocument | InputError], R],
    root: ProjectRoot,
    namespace: str | None,
    profile: str | None,
    config: Mapping[str, Any] | None,
    follow_symlinks: bool,
    known: Known[R] | None = None,
) -> R:
    key = None
    if known is not None:
        found, key = _known(path, root, config, follow_symlinks, known)
        if found is not None:
            return found
    try:
        doc: CutDocument | InputError = cut_file(
            path,
            root=root,
            namespace=namespace,
            profile=profile,
            config=config,
            follow_symlinks=follow_symlinks,
        )
    except InputError as exc:
        doc = exc
    result = then(doc)
    if key is not None and not isinstance(doc, InputError):
        from iucut.plan import Digest

        if isinstance(result, Digest) and result.doc_hash == doc.doc_hash:
            # the stat taken before the bytes were read, for the cache's fast path
            result = dataclasses.replace(result, stat=key)
    return result
