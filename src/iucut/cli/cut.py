"""``iucut cut``: cut Markdown into units, summarise, write the plan rows, or check round-trips."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, Any

import click

from iucut.cli import (
    STDOUT,
    Context,
    cli,
    jobs_of,
    jobs_option,
    note,
    pass_ctx,
    plural,
    printable,
    progress,
    relative_glob,
    stdout_console,
    stdout_is_terminal,
    strict_option,
    writing,
)
from iucut.cut import DEFAULT_GLOB, Sources, list_sources, walk_batches
from iucut.cut.source import Batches, cut_map
from iucut.errors import CheckFailed, InputError, OutsideRoot
from iucut.parallel import resolve_jobs
from iucut.project import ROOT_ENV
from iucut.spill import Spill
from iucut.units import CutDocument, UnchangedFolder
from iucut.validate import check_rows

if TYPE_CHECKING:
    from rich.tree import Tree

ROOT_HELP = (
    "The project root: document paths (their identity) are relative to it. Default: "
    f"{ROOT_ENV}, else the nearest folder above the paths holding iucut.yaml (iucut init), "
    "else the git work tree, else the folder given (said on stderr)."
)
FOLLOW_HELP = "Read files that links lead to outside the project root (refused by default)."
TREE_UNITS = 40  # units shown per document tree
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # one for every row
TREE_DOCS = 10  # above this many documents, a table of documents instead of trees


def listing(paths: tuple[Path, ...] | list[Path], glob: str, quiet: bool = False) -> Sources:
    """The sources of ``paths`` (see :func:`~iucut.cut.list_sources`), with a warning on
    stderr for each path passed over (a folder, a dangling link, a FIFO matching the
    glob, a file the glob does not name) and each folder where ``glob`` finds no file
    (unless ``quiet``)."""
    found = list_sources(paths, glob, as_text=True)
    if not quiet:
        for warning in found.warnings():
            note(f"iucut: warning: {warning}")
    read = {id(root): root for _, root in found.files}.values()  # (no Path hashed a file)
    for folder in paths:
        if folder.is_dir() and folder not in read and not quiet:
            note(f"iucut: warning: no file in {folder} matches {glob!r}")
    return found


def listing_batches(
    paths: tuple[Path, ...] | list[Path], glob: str
) -> Iterator[list[tuple[str | Path, Path | None]]]:
    """:func:`listing`'s files as they are found, a run of files at a time
    (:func:`~iucut.cut.walk_batches`: the client holds the names of the folders being
    walked, not the corpus), each path passed over said on stderr as it is found (before
    its run), and each folder where ``glob`` finds no file at the end."""
    skipped: list[tuple[Path, str]] = []
    read: list[Path] = []  # (the folders given that gave a file: a few)
    for batch in walk_batches(paths, glob, skipped):
        if skipped:
            _said(skipped)
        folder = batch[0][1]  # (a run's files are of one folder given)
        if folder is not None and (not read or read[-1] is not folder):
            read.append(folder)
        yield batch
    _said(skipped)
    for folder in paths:
        if folder.is_dir() and folder not in read:
            note(f"iucut: warning: no file in {folder} matches {glob!r}")


def _said(skipped: list[tuple[Path, str]]) -> None:
    for path, why in skipped:
        note(f"iucut: warning: {path}: {why}")
    skipped.clear()


def named(paths: tuple[Path, ...] | list[Path], glob: str) -> list[Path]:
    """The paths the project root is found from: folders, and files the glob names (a
    ``/etc/passwd`` passed over takes no part). Cheap: nothing is listed."""
    last = PurePath(glob).name or glob
    return [p for p in paths if p.is_dir() or fnmatch.fnmatchcase(p.name, last)]


def cutting(
    paths: tuple[Path, ...] | list[Path],
    *,
    glob: str,
    show: bool,
    quiet: bool = False,
    strict: bool = False,
    sources: Sources | Batches | Iterable[tuple[str | Path, Path | None]] | None = None,
    then: Callable[[CutDocument | InputError], Any] | None = None,
    **options: Any,
) -> Generator[Any, None, None]:
    """:func:`~iucut.cut.cut_paths`, with a progress bar on stderr when ``show``, over
    the ``sources`` listed by :func:`listing` (listed here when not given; its warnings
    unless ``quiet``), or the files as they are found (:func:`listing_batches`).
    ``strict``: a document with a warning comes out as an InputError (rejected), its
    first warning named. ``then``: applied to each document (or error)
    where it is cut (a worker process under ``jobs`` > 1), its result yielded instead.
    ``jobs`` (in ``options``): worker processes; results come in source order."""
    found = (
        (sources or listing(paths, glob, quiet)).files
        if sources is None or isinstance(sources, Sources)
        else sources
    )
    keep_programs()
    work = functools.partial(_checked, strict=strict, then=then)
    with progress(show, "cutting") as bar:
        results = cut_map(work, paths, glob=glob, sources=found, **options)
        if bar is None:
            yield from results
            return
        if not isinstance(found, list):  # (files as they are found: no total)
            done = 0
            for item in results:  # (a folder passed at once counts its files)
                done += item.size if type(item) is UnchangedFolder else 1
                bar(done, 0, _name(item, ""))
                yield item
            return
        for done, item in enumerate(results, 1):
            bar(done, len(found), _name(item, found[done - 1][0]))  # (in source order)
            yield item


def keep_programs() -> None:
    """The rules' programs for the compiled core are kept in the iucut home between
    commands (:func:`iucut.cut.programs.keep_programs`): a command compiles only those no
    command compiled before (~60 ms of a re-sync that cuts one document)."""
    from iucut.cut import programs

    current = click.get_current_context(silent=True)
    ctx = current.find_object(Context) if current is not None else None
    if ctx is not None:
        programs.keep_programs(ctx.settings.home / programs.PROGRAMS_FILE)


def _name(item: Any, file: Path | str) -> str:
    """The document path of a result of :func:`cutting` (its file when it has none)."""
    if isinstance(item, InputError):
        return str(item.context.get("path") or file)
    doc = getattr(item, "doc", item)
    return str(getattr(doc, "path", file))


def _checked(
    item: CutDocument | InputError,
    *,
    strict: bool,
    then: Callable[[CutDocument | InputError], Any] | None,
) -> Any:
    if strict:
        item = strict_check(item)
    return item if then is None else then(item)


def strict_check(item: CutDocument | InputError) -> CutDocument | InputError:
    """``--strict``: a document with warnings becomes the rejection of its first one."""
    if isinstance(item, InputError) or not item.warnings:
        return item
    more = len(item.warnings) - 1
    return InputError(
        f"{item.warnings[0]}"
        + (f" (and {plural(more, 'more warning')})" if more else "")
        + " (--strict)",
        path=item.path,
    )


def plan_rows(doc: CutDocument) -> Iterator[dict[str, Any]]:
    """The plan rows of a document: each unit's fields plus the document hash."""
    for unit in doc.units:
        row = unit.to_dict()
        row["doc_hash"] = doc.doc_hash
        yield row


def round_trips(doc: CutDocument) -> bool:
    """Whether the units reassemble the source byte for byte (same sha256 and size)."""
    data = doc.reassemble().encode("utf-8")
    return len(data) == doc.size and hashlib.sha256(data).hexdigest() == doc.doc_hash


@cli.command("cut")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@strict_option
@jobs_option
@click.option(
    "--glob",
    "pattern",
    default=DEFAULT_GLOB,
    show_default=True,
    callback=relative_glob,
    help="Files to cut inside each directory.",
)
@click.option("--json", "as_json", is_flag=True, help="Write the rows as JSON lines to stdout.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the rows as JSON lines (one row per unit) to this file.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help=ROOT_HELP,
)
@click.option("--follow-symlinks", is_flag=True, help=FOLLOW_HELP)
@click.option(
    "--check", is_flag=True, help="Only verify that every document reassembles byte for byte."
)
@click.option(
    "--namespace",
    help="Namespace for every document (default: front matter "
    "iu_namespace, configuration, else derived from the path).",
)
@click.option(
    "--profile",
    help="Label profile: vi, de, en, fr, eu or a configured one "
    "(default: front matter iu_profile, configuration, else detected).",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="No warnings and no progress bar (errors are still shown)."
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Every warning of every document, not a summary."
)
@pass_ctx
def cut(
    ctx: Context,
    paths: tuple[Path, ...],
    pattern: str,
    as_json: bool,
    output: Path | None,
    root: Path | None,
    follow_symlinks: bool,
    check: bool,
    namespace: str | None,
    profile: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Cut Markdown files (and directories, by --glob) into units. No database.

    \b
    Without options: a summary (tree of codes and titles, counts by kind).
    --json / -o FILE: one JSON row per unit (the cut plan).
    --check: exit 12 naming each document that does not round-trip byte for byte.
    A document that cannot be cut is reported (file, line, byte) and the others go on;
    the exit code is then 3 (20 when every one is outside the project root).

    \b
    Document identity: paths are relative to the project root, the nearest folder
    holding iucut.yaml (`iucut init`), or --root / IUCUT_ROOT; see the README.
    Files the glob does not name (data.csv) are skipped with a warning, and so are
    folders, dangling links and FIFOs matching it; links leading outside the root
    are refused unless --follow-symlinks.

    \b
    Headings: ATX (#) and setext (===, ---) headings at the top level, as CommonMark
    reads them. A heading inside a block quote or a list item stays body text of the
    unit around it (it starts no unit).
    """
    sources = listing(paths, pattern, quiet)
    project = ctx.root(named(paths, pattern), root, quiet=quiet)
    from iucut.cut.codes import namespace_problem
    from iucut.cut.profiles import configured

    config = ctx.settings.config
    known = configured(config)
    if profile is not None and profile not in known:
        raise click.BadParameter(
            f"unknown profile {profile!r} (known: {', '.join(sorted(known))})",
            param_hint="'--profile'",
        )
    problem = namespace_problem(namespace) if namespace is not None else None
    if problem is not None:
        raise click.BadParameter(f"{namespace!r} {problem}", param_hint="'--namespace'")
    docs: list[CutDocument] = []
    bad: list[InputError] = []
    failed: list[str] = []
    kinds: Counter[str] = Counter()
    with ExitStack() as stack:
        sink: IO[bytes] | None = None
        if output is not None:
            # opening, writing and closing the rows file (a full disk shows at close)
            stack.enter_context(writing(output))
            sink = stack.enter_context(output.open("wb"))
        elif as_json and not check:
            stack.enter_context(writing(Path(STDOUT)))
            sys.stdout.flush()
            sink = sys.stdout.buffer  # the rows come encoded: bytes, as made by the workers
        warned = Warnings(verbose=verbose and not quiet)
        jobs = jobs_of()
        spill = None
        if sink is not None and resolve_jobs(jobs) > 1 and len(sources.files) > 1:
            # the workers' rows reach the sink through shared memory, not their pipes
            spill = Spill.open()
            if spill is not None:
                stack.callback(spill.close)
        results = cutting(
            paths,
            glob=pattern,
            show=not (as_json or quiet),
            sources=sources,
            root=project,
            follow_symlinks=follow_symlinks,
            namespace=namespace,
            profile=profile,
            config=config,
            strict=ctx.strict,
            jobs=jobs,
            then=functools.partial(
                _cut_result,
                check=check,
                encode=sink is not None,
                tree=len(sources.files) <= TREE_DOCS,
                spill=spill,
            ),
        )
        stack.enter_context(closing(results))  # an error below ends the progress bar first
        for result in results:
            if isinstance(result, InputError):
                note(f"iucut: error: {result.message}")
                bad.append(result)
                continue
            if check:
                if not result.round_trips:
                    failed.append(result.doc.path)
                    note(f"iucut: FAIL {result.doc.path}: does not round-trip")
                kinds["documents"] += 1
                continue
            warned.add(result.doc)
            kinds.update(result.kinds)
            if result.spilled is not None and spill is not None and sink is not None:
                spill.copy_to(sink, *result.spilled)
            elif sink is not None:
                sink.write(result.rows)
            docs.append(result.doc)
    if not quiet:
        warned.summary()
    if check:
        if not failed and not bad:
            click.echo(f"ok: {plural(kinds['documents'], 'document')} round-trip byte for byte")
        if failed:
            raise CheckFailed(
                f"{plural(len(failed), 'document')} do not round-trip: " + ", ".join(failed)
            )
    elif not as_json:
        _summary(docs, kinds, output)
    if bad:
        err = (OutsideRoot if all(isinstance(e, OutsideRoot) for e in bad) else InputError)(
            path=bad[0].context.get("path")
        )
        err.message = f"{plural(len(bad), 'document')} could not be cut: " + ", ".join(
            str(e.context.get("path")) for e in bad
        )
        raise err


@dataclass(frozen=True)
class _CutResult:
    """What ``cut`` keeps of one document, made where it was cut (a worker process):
    small, and its rows as bytes, so that the parent only writes them."""

    doc: CutDocument  # :func:`_light`: what a tree or the table of documents shows
    kinds: Counter[str]
    rows: bytes = b""  # its rows as JSON lines, UTF-8 (--json / -o)
    round_trips: bool = True  # (--check)
    #: where the worker put its rows instead (``(offset, length)`` in the spill)
    spilled: tuple[int, int] | None = None


def _cut_result(
    item: CutDocument | InputError,
    *,
    check: bool,
    encode: bool,
    tree: bool = True,
    spill: Spill | None = None,
) -> _CutResult | InputError:
    """One document as ``cut`` reports it: the rows checked and encoded, the counts.
    ``tree``: keep the first units (for the tree of a few documents), else none (the
    table of documents shows counts). ``spill``: the rows go there (a worker process),
    and only where they are crosses back."""
    if isinstance(item, InputError):
        return item
    if check:
        return _CutResult(_light(item, tree), Counter(), round_trips=round_trips(item))
    check_rows(item.units)
    rows = b""
    if encode:
        encode_row = _ROW_ENCODER.encode
        rows = "".join([encode_row(row) + "\n" for row in plan_rows(item)]).encode("utf-8")
    kinds = Counter(u.kind for u in item.units)
    spilled = spill.put(rows) if spill is not None and rows else None
    return _CutResult(_light(item, tree), kinds, b"" if spilled else rows, spilled=spilled)


def warning_kind(warning: str) -> str:
    """What a cutter warning is about, to count it with its kind: ``duplicate code``…"""
    if "duplicate code" in warning:
        return "duplicate code"
    return "other warning"


class Warnings:
    """The documents' warnings: every one as it comes (``verbose``), else counted by kind
    and summed up once at the end, with the first of each kind, so that hundreds of them
    do not scroll the progress bar and the results away."""

    def __init__(self, *, verbose: bool):
        self.verbose = verbose
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def add(self, doc: CutDocument) -> None:
        for warning in doc.warnings:
            kind = warning_kind(warning)
            self.counts[kind] += 1
            self.first.setdefault(kind, f"{doc.path}: {warning}")
            if self.verbose:
                note(f"iucut: warning: {doc.path}: {warning}")

    def summary(self) -> None:
        """One line per kind on stderr: ``205 duplicate codes, first: …``."""
        if self.verbose or not self.counts:
            return
        for kind, count in self.counts.most_common():
            note(f"iucut: warning: {plural(count, kind)}, first: {self.first[kind]}")
        note("iucut: -v lists every warning, --quiet none")


def _light(doc: CutDocument, tree: bool = True) -> CutDocument:
    """Keep only what the document tree (``tree``) or table shows (memory: a few units a
    document, none for the table)."""
    return CutDocument(
        doc.path,
        doc.namespace,
        doc.doc_hash,
        doc.size,
        doc.units[:TREE_UNITS] if tree else (),
        warnings=doc.warnings,
        front_matter={"_units": len(doc.units)},
    )


def _summary(docs: list[CutDocument], kinds: Counter[str], output: Path | None) -> None:
    """The trees of a few documents (else a table of them), the units by kind and the
    count: drawn by rich on a terminal, plain text in a pipe or a file (but for the
    trees), which takes milliseconds, not a tenth of a second, for 500 documents."""
    where = f"; rows written to {output}" if output else ""
    last = f"{plural(len(docs), 'document')}{where}"
    if len(docs) > TREE_DOCS and not stdout_is_terminal():
        header = ("document", "namespace", "units", "warnings")
        docs_rows = [
            (printable(d.path), printable(d.namespace), str(_units(d)), str(len(d.warnings)))
            for d in docs
        ]
        kind_rows = [
            (printable(k), str(n)) for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        text = "\n".join(
            [
                "Documents",
                *_tsv([header, *docs_rows]),
                "",
                "Units by kind",
                *_tsv([("kind", "units"), *kind_rows, ("total", str(sum(kinds.values())))]),
                "",
                printable(last),
                "",
            ]
        )
        sys.stdout.write(text)
        return
    console = stdout_console(highlight=False, soft_wrap=True)
    if len(docs) <= TREE_DOCS:
        for doc in docs:
            console.print(_tree(doc))
    else:
        from rich.table import Table  # (not imported by a command that draws no table)

        table = Table("document", "namespace", "units", "warnings", title="Documents")
        for doc in docs:
            table.add_row(
                _esc(doc.path), _esc(doc.namespace), str(_units(doc)), str(len(doc.warnings))
            )
        console.print(table)
    from rich.table import Table

    counts = Table("kind", "units", title="Units by kind")
    for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        counts.add_row(kind, str(n))
    counts.add_row("total", str(sum(kinds.values())))
    console.print(counts)
    console.print(last)


def _units(doc: CutDocument) -> int:
    """The units of a document kept by :func:`_light` (it holds their count)."""
    count = doc.front_matter.get("_units", len(doc.units))
    return int(count)


def _tsv(rows: list[tuple[str, ...]]) -> list[str]:
    """Lines of tab-separated cells (each cell :func:`printable`: no tab, no newline)."""
    return ["\t".join(row) for row in rows]


def _tree(doc: CutDocument) -> Tree:
    root = doc.units[0]
    from rich.tree import Tree

    tree = Tree(f"[bold]{_esc(root.code)}[/bold]  {_esc(root.title)}  ({_esc(doc.path)})")
    nodes = {root.code: tree}
    cut = len(root.code)
    for unit in doc.units[1:TREE_UNITS]:
        parent = nodes.get(unit.parent_code or "", tree)
        label = f"{_esc(unit.code[cut:])}  [dim]{_esc(unit.title[:80])}[/dim]"
        nodes[unit.code] = parent.add(label)
    count = doc.front_matter.get("_units", len(doc.units))
    if count > TREE_UNITS:
        tree.add(f"[dim]… and {count - TREE_UNITS} more units[/dim]")
    return tree


def _esc(text: str) -> str:
    """Document text for rich output: no control characters, no markup."""
    return printable(text).replace("[", r"\[")
