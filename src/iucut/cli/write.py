"""Commands that plan and write units: plan, apply."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from contextlib import closing, suppress
from itertools import chain, islice, tee
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from iucut import apply as apply_mod
from iucut import dangling as dangling_mod
from iucut import digests as digests_mod
from iucut import planfile
from iucut.apply import Recut
from iucut.cli import (
    Context,
    cli,
    echo_json,
    jobs_of,
    jobs_option,
    json_masked,
    json_text,
    note,
    pass_ctx,
    plural,
    printable,
    progress,
    progress_later,
    relative_glob,
    strict_option,
    writing,
)
from iucut.cli.cut import FOLLOW_HELP, ROOT_HELP, cutting, listing, listing_batches, named
from iucut.cut import Sources, iter_sources, walk_sources
from iucut.cut.source import Batches
from iucut.db.connector import preload
from iucut.errors import PLAN_CHANGES_EXIT, DanglingReferences, InputError, IucutError
from iucut.plan import Digest, Unchanged, digest_of
from iucut.store import Store
from iucut.units import CutDocument, Plan, Rejected, UnchangedFolder, summary_line

if TYPE_CHECKING:
    from iucut.project import ProjectRoot

FOLLOW_KEY = "iucut.follow_symlinks"

source_args = [
    click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path)),
    click.option(
        "--glob",
        default="**/*.md",
        show_default=True,
        callback=relative_glob,
        help="Files to take from directories.",
    ),
    click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        help=ROOT_HELP,
    ),
    click.option(
        "--follow-symlinks",
        is_flag=True,
        expose_value=False,  # read by cut_sources (every command taking PATHs has it)
        callback=lambda c, p, v: c.meta.__setitem__(FOLLOW_KEY, v),
        help=FOLLOW_HELP,
    ),
    strict_option,
    jobs_option,
]


def with_sources(f: Any) -> Any:
    for decorator in reversed(source_args):
        f = decorator(f)
    return f


def cut_sources(
    ctx: Context, paths: tuple[Path, ...], glob: str, root: Path | None, show: bool = True
) -> list[CutDocument | IucutError]:
    """Cut the sources (a progress bar on stderr when ``show``); bad documents become
    errors in the list (others proceed)."""
    if not paths:
        raise click.UsageError("give at least one PATH (a file or a folder)")
    items: list[CutDocument | IucutError] = []
    sources = listing(paths, glob)
    project = ctx.root(named(paths, glob), root)
    follow = bool(click.get_current_context().meta.get(FOLLOW_KEY))
    results = cutting(
        list(paths),
        glob=glob,
        show=show,
        strict=ctx.strict,
        sources=sources,
        root=project,
        follow_symlinks=follow,
        config=ctx.settings.config,
        jobs=jobs_of(),
    )
    with closing(results):  # an error ends the progress bar first
        for item in results:
            if isinstance(item, IucutError):
                note(f"iucut: rejected: {item.message}")
            else:
                show_warnings(ctx, item)
            items.append(item)
    return items


def digest_sources(
    ctx: Context,
    paths: tuple[Path, ...],
    glob: str,
    root: Path | None,
    show: bool = True,
    rehash: bool = False,
    fast: bool = False,
    errors: list[IucutError] | None = None,
) -> tuple[Iterable[Digest | Unchanged | IucutError], Recut]:
    """:func:`cut_sources` keeping only each document's digest (no text: the client
    holds the corpus's digests, not the corpus), and what cuts documents again by path
    (for apply to cut the documents it writes, a few at a time, as it writes them).
    ``fast`` (apply): a file the cut cache knows by its stat comes as an
    :class:`~iucut.plan.Unchanged` (no digest made), and the digests come as the files
    are read, to be read once (the client holds none: apply's triage keeps the few it
    must); else a list. ``errors``: where the documents that cannot be cut are kept
    (each is said on stderr as it comes)."""
    if not paths:
        raise click.UsageError("give at least one PATH (a file or a folder)")
    project = ctx.root(named(paths, glob), root)
    follow = bool(click.get_current_context().meta.get(FOLLOW_KEY))
    options: dict[str, Any] = {
        "glob": glob,
        "strict": ctx.strict,
        "root": project,
        "follow_symlinks": follow,
        "config": ctx.settings.config,
        "jobs": jobs_of(),
    }
    # where the file of each document cut now is: its folder as the walk named it, one
    # entry a folder of documents (not one a document: a first apply cuts the corpus),
    # and the file itself when it is not that folder and the document's name (rare)
    found = _Files()
    # a file whose bytes and rules did not change since its last cut is not cut again:
    # its digest is read from the cut cache (iucut.digests) and compared with the database
    cache = ctx.settings.home / digests_mod.FILE_NAME
    rules = digests_mod.rules_fingerprint(ctx.settings.config, namespace=None, profile=None)
    digests_mod.reread()
    # (and a file whose stat did not change since then is not even read: --rehash reads)
    known = digests_mod.Lookup(
        cache=cache, rules=rules, strict=ctx.strict, rehash=rehash, fast=fast
    )

    def digests() -> Iterator[Digest | Unchanged | IucutError]:
        # apply reads the files as they are found, the cutting a window of them ahead
        # (a tee holds what is between); else listed first
        files: Iterable[tuple[str | Path, Path | None]]
        if fast:  # (a run of files at a time: no step of Python a file in between)
            runs, ahead = tee(listing_batches(paths, glob))
            files = chain.from_iterable(runs)
            sources: Any = Batches(ahead)
        else:
            sources = listing(paths, glob)
            files = sources.files
        results = cutting(
            list(paths), show=show, sources=sources, then=digest_of, known=known, **options
        )
        # (to remember, a batch at a time: a first apply cuts every document; the
        # cache's readers of this walk are kept until its end, see digests.remember)
        cut: list[Digest] = []
        wrote = False
        listed = iter(files)
        with closing(results):  # an error ends the progress bar first
            for item in results:
                file, _ = next(listed)
                if type(item) is UnchangedFolder:  # (a folder's files at once: the
                    # others passed over in one call, not a next() each)
                    next(islice(listed, item.size - 1, item.size - 1), None)
                    if item.warnings:  # (shown at every re-sync)
                        warn(ctx, item.warnings)
                elif type(item) is Unchanged:
                    if item.warnings:  # (those of its last cut: shown at every re-sync)
                        show_warnings(ctx, item)
                else:
                    if isinstance(item, IucutError):
                        note(f"iucut: rejected: {item.message}")
                        if errors is not None:
                            errors.append(item)
                    else:
                        show_warnings(ctx, item)
                        found.add(item.path, os.fspath(file))
                        if isinstance(item, Digest):
                            cut.append(item)
                            if len(cut) >= REMEMBER_BATCH:
                                digests_mod.remember(cut, cache=cache, rules=rules, reread=False)
                                cut, wrote = [], True
                yield item
        if next(listed, None) is not None:
            raise AssertionError("more files listed than results")
        digests_mod.remember(cut, cache=cache, rules=rules, reread=True, wrote=wrote)

    def file_of(doc_paths: Iterable[str]) -> Iterator[str]:
        # (twice over the paths: those whose file is not known are found first, by
        # walking the corpus again, e.g. an Unchanged one's: the database changed)
        again = project.fresh()
        missing = {p for p in doc_paths if found.get(p, again, follow) is None}
        walked: dict[str, str] = {}
        if missing:
            for file, _ in walk_sources(paths, glob):
                with suppress(IucutError, OSError):
                    doc_path = again.located(file, follow_symlinks=follow)[0]
                    if doc_path in missing:
                        walked[doc_path] = os.fspath(file)
        for p in doc_paths:
            known = (walked.get(p) if p in missing else None) or found.guess(p)
            if known is None:
                raise KeyError(p)  # (not a file of this pass)
            yield known

    def recut(
        doc_paths: Iterable[str],
        /,
        then: Callable[[CutDocument | IucutError], Any] | None = None,
    ) -> Iterator[Any]:
        if iter(doc_paths) is doc_paths:  # (read twice)
            doc_paths = list(doc_paths)
        files = file_of(doc_paths)
        # a few: listed at once (one document is cut here, without a worker); many (a
        # first apply: the corpus), as they come, a window at a time
        again: Any = (
            Sources(files=[(Path(f), None) for f in files])
            if len(cast(Sized, doc_paths)) <= REMEMBER_BATCH
            else ((f, None) for f in files)
        )
        return cutting(list(paths), show=False, quiet=True, sources=again, then=then, **options)

    return (digests() if fast else list(digests())), recut


#: Digests of documents cut remembered at once (the cut cache), and documents cut again
#: listed at once (more are cut as they come).
REMEMBER_BATCH = 1024


class _Files:
    """The file of each document cut in a pass, by its document path: a folder's files
    are named by the folder as the walk named it and the document's name, so one entry a
    folder (the client holds the folders, not the corpus); a file that is not (its name
    is not the document's, its folder named otherwise before) is kept itself."""

    def __init__(self) -> None:
        #: document folder ("" or ending in "/") -> the folder of its files, as named
        self.folders: dict[str, str] = {}
        #: document path -> file, for a file not named by its folder
        self.odd: dict[str, str] = {}

    def add(self, doc_path: str, file: str) -> None:
        at = doc_path.rfind("/") + 1
        cut = file.rfind(os.sep) + 1
        if file[cut:] == doc_path[at:]:
            folder = self.folders.setdefault(doc_path[:at], file[:cut])
            if folder == file[:cut]:
                self.odd.pop(doc_path, None)  # (a path cut twice: the last file)
                return
        self.odd[doc_path] = file

    def guess(self, doc_path: str) -> str | None:
        """The file of ``doc_path`` if it was cut in this pass (or its folder's file of
        that name: checked by :meth:`get`), else None."""
        found = self.odd.get(doc_path)
        if found is not None:
            return found
        at = doc_path.rfind("/") + 1
        folder = self.folders.get(doc_path[:at])
        return None if folder is None else folder + doc_path[at:]

    def get(self, doc_path: str, root: ProjectRoot, follow_symlinks: bool) -> str | None:
        """:meth:`guess` when that file is the document at ``doc_path`` (``root``
        locates it), else None (e.g. an Unchanged document's, its folder not cut now)."""
        if doc_path in self.odd:
            return self.odd[doc_path]
        file = self.guess(doc_path)
        if file is None:
            return None
        try:
            located = root.located(file, follow_symlinks=follow_symlinks)[0]
        except (IucutError, OSError):
            return None
        return file if located == doc_path else None


REHASH_HELP = (
    "Read and hash every file: trust no file's unchanged size, mtime, ctime and inode to "
    "mean unchanged bytes (the cut cache's fast path, as git's index); apply also reads "
    "every stored document row instead of what it last saw of them."
)

#: Warnings shown per document on stderr (every one is in --json).
WARNINGS_SHOWN = 3


def strict_reminder(ctx: Context) -> None:
    """After a run with warnings: they were cut as they are, and --strict would not."""
    if ctx.warnings:
        docs = len({path for path, _ in ctx.warnings})
        note(
            f"iucut: {plural(docs, 'document')} with warnings cut as they are "
            "(--strict rejects them)"
        )


def show_warnings(ctx: Context, doc: CutDocument | Digest | Unchanged) -> None:
    """A document's warnings on stderr (the first few) and in the command's JSON (all):
    it is cut and written, and ``--strict`` would reject it."""
    if doc.warnings:
        warn(ctx, [(doc.path, doc.warnings)])


def warn(ctx: Context, documents: Iterable[tuple[str, Sequence[str]]]) -> None:
    """The warnings of each document (its path and warnings) as :func:`show_warnings`
    says them, in one write (a folder passed at once says those of its documents)."""
    lines: list[str] = []
    for path, warnings in documents:
        ctx.warnings.append((path, tuple(warnings)))
        lines += [f"iucut: warning: {path}: {w}" for w in warnings[:WARNINGS_SHOWN]]
        if len(warnings) > WARNINGS_SHOWN:
            lines.append(
                f"iucut: warning: {path}: … and {len(warnings) - WARNINGS_SHOWN} more "
                "(--strict rejects a document with warnings)"
            )
    if lines:
        note("\n".join(lines))  # (a re-sync shows every one again)


def show_rejections(
    rejected: tuple[Rejected, ...],
    items: Sequence[CutDocument | Digest | Unchanged | IucutError],
) -> None:
    """Say why each document was rejected after it was cut (a namespace shared with
    another file, a code clash): those cut_sources has not said already."""
    said = {str(e.context.get("path")) for e in items if isinstance(e, IucutError)}
    for r in rejected:
        if r.path not in said:
            text = r.message if r.message.startswith(r.path) else f"{r.path}: {r.message}"
            note(f"iucut: rejected: {text}")


#: Changes listed per document (-v lists every one): a first plan of a large corpus
#: would print a line per unit.
CHANGES_SHOWN = 20


def print_plan(
    plan: Plan,
    plan_id: str,
    verbose: bool,
    *,
    summary: bool = False,
    data: Any = None,
    dangling: Sequence[dangling_mod.Dangling] = (),
) -> None:
    """Each document with changes, each change with its word diff (``summary``: the
    documents' counts only; at most CHANGES_SHOWN changes a document unless
    ``verbose``), the references that would dangle, the rejected documents, then the
    totals. ANSI only on a terminal."""
    documents = (data if data is not None else planfile.plan_to_dict(plan))["documents"]
    skipped = sum(1 for d in plan.documents if d.action == "skip")
    print_review(documents, verbose, summary=summary, dangling=dangling)
    print_totals(plan.rejected, plan.counts, len(plan.documents), skipped, plan_id)


def print_review(
    documents: Iterable[Any],
    verbose: bool,
    *,
    summary: bool = False,
    dangling: Sequence[dangling_mod.Dangling] = (),
) -> None:
    """:func:`print_plan`'s review of the documents (in their plan-file form), written a
    document at a time as they come."""
    from iucut.report import review

    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for body in review.terminal_chunks(
        documents,
        verbose=verbose,
        summary=summary,
        color=color,
        limit=None if verbose else CHANGES_SHOWN,
        dangling=[d.to_dict() for d in dangling],
    ):
        click.echo(body, nl=False, color=color)


def print_totals(
    rejected: Iterable[Rejected], counts: Any, documents: int, skipped: int, plan_id: str
) -> None:
    """:func:`print_plan`'s end: the rejected documents, then the totals."""
    rejected = list(rejected)
    for r in rejected:
        click.echo(printable(f"rejected: {_reason(r)}"))
    click.echo(
        f"plan {plan_id[:12]}: {summary_line(counts)}  "
        f"({plural(documents, 'document')}, {skipped} unchanged, "
        f"{len(rejected)} rejected)"
    )


def _reason(rejected: Rejected) -> str:
    """``path: why`` (the message names the path already, most of the time)."""
    if rejected.message.startswith(rejected.path):
        return rejected.message
    return f"{rejected.path}: {rejected.message}"


def rejected_error(rejected: tuple[Rejected, ...], consequence: str) -> InputError:
    """The error of a plan or apply with rejected documents: how many, and why (the
    first one's reason in the message; every one in the context, for --json)."""
    count = plural(len(rejected), "document")
    first = _reason(rejected[0])
    more = f" (and {len(rejected) - 1} more, listed above)" if len(rejected) > 1 else ""
    err = InputError(path=rejected[0].path)
    if len(rejected) > 1:
        consequence = consequence.replace(" it", " them")
    err.message = f"{count} rejected, {consequence}: {first}{more}"
    err.context["rejected"] = [{"path": r.path, "message": r.message} for r in rejected]
    return err


@cli.command("plan")
@with_sources
@click.option("--prune", is_flag=True, help="Retire documents missing from the given folders.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the plan artifact (JSON; its sha256 is its id).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Show unchanged documents and placement updates."
)
@click.option(
    "--summary", is_flag=True, help="Print each document's counts only (no unit, no diff)."
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the review page here as plan-<id>.html (one file, opens offline).",
)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Show this saved plan file (-o) instead of planning: no database is used, the "
    "old texts are in the file.",
)
@click.option(
    "--strict-refs",
    is_flag=True,
    help="Refuse the plan (exit 30) when references of active units would dangle.",
)
@click.option("--rehash", is_flag=True, help=REHASH_HELP)
@pass_ctx
def plan_cmd(
    ctx: Context,
    paths: tuple[Path, ...],
    glob: str,
    root: Path | None,
    prune: bool,
    output: Path | None,
    as_json: bool,
    verbose: bool,
    summary: bool,
    report_dir: Path | None,
    plan_file: Path | None,
    strict_refs: bool,
    rehash: bool,
) -> None:
    """Show what apply would do: create, revise, move, restore, retire (read-only).

    Each revision is shown as a word diff of the stored and the new text
    ([-removed-]{+added+} when not on a terminal; whitespace changes drawn as · ↵ → ␍),
    moves from → to, creates and retires with their first lines.

    Exit code 0: no changes; 2: there are changes; 1 or more: error (as terraform's
    -detailed-exitcode).
    """
    if plan_file is None:
        _plan_spooled(
            ctx,
            paths,
            glob,
            root,
            prune,
            output,
            as_json,
            verbose,
            summary,
            report_dir,
            strict_refs,
            rehash,
        )
        return
    if paths or prune or output is not None:  # a saved plan, reviewed offline (as terraform show)
        raise click.UsageError("--plan shows a saved plan: give no PATH, --prune or -o")
    the_plan, plan_id = planfile.read_plan(plan_file)
    data = planfile.plan_to_dict(the_plan)
    if report_dir is not None:
        from iucut.report.page import write_plan_page

        with writing(report_dir):
            page = write_plan_page(report_dir, data, plan_id, [])
        note(f"review page: {page}")
    if as_json:
        echo_json({"plan_id": plan_id, **data, "warnings": ctx.warning_dicts(), "dangling": []})
    else:
        print_plan(the_plan, plan_id, verbose, summary=summary, data=data)
        strict_reminder(ctx)
    if the_plan.has_changes:
        # SystemExit, not click's Exit: under standalone_mode=False (cli.main) click
        # swallows Exit and *returns* its code, which main() then turned into exit 0
        raise SystemExit(PLAN_CHANGES_EXIT)


def _plan_spooled(
    ctx: Context,
    paths: tuple[Path, ...],
    glob: str,
    root: Path | None,
    prune: bool,
    output: Path | None,
    as_json: bool,
    verbose: bool,
    summary: bool,
    report_dir: Path | None,
    strict_refs: bool,
    rehash: bool,
) -> None:
    """``iucut plan PATH...``: the plan made a document at a time and spooled to a
    temporary file (:mod:`iucut.planspool`), its plan file, JSON and review written from
    there: the client holds the documents in flight, not the plan of the corpus (issue
    #16 part 3; the review page, ``--report``, is made of the whole plan at once)."""
    scopes = _prune_scopes(ctx, paths, glob, root) if prune else None
    found, recut = digest_sources(ctx, paths, glob, root, show=not as_json, rehash=rehash)
    # (no Unchanged without ``fast``: a plan shows each document from its digest)
    items = cast(list[Digest | IucutError], found)
    store = Store(ctx.settings)
    with progress(not as_json, "planning") as bar:
        spool, alike, broken = store.spool_plan_digests(
            items,
            recut,
            prune_scopes=scopes,
            on_progress=bar,
            ordered=as_json or report_dir is not None,  # (their keys in order)
        )
    with spool:
        for warning in alike:
            note(f"iucut: warning: {warning}")
        if output is not None:
            with writing(output):
                plan_id = spool.write(output)
            note(f"plan written to {output} (id {plan_id})")
        else:
            plan_id = spool.id()
        if report_dir is not None:
            from iucut.report.page import write_plan_page

            with writing(report_dir):
                page = write_plan_page(
                    report_dir, spool.to_dict(), plan_id, [d.to_dict() for d in broken]
                )
            note(f"review page: {page}")
        if as_json:
            show_rejections(tuple(spool.rejected), items)  # (the text lists them on stdout)
            found_alike = [{"path": w.split(": ", 1)[0], "warning": w} for w in alike]
            wrapper = {
                "plan_id": plan_id,
                **spool.head(),
                "warnings": ctx.warning_dicts() + found_alike,
                "dangling": [d.to_dict() for d in broken],
            }
            for piece in spool.pretty_json(wrapper, json_text, json_masked):
                click.echo(piece, nl=False)
            click.echo("")
        else:
            print_review(spool.documents(), verbose, summary=summary, dangling=broken)
            print_totals(spool.rejected, spool.counts, spool.count, spool.skipped, plan_id)
            strict_reminder(ctx)
        rejected, has_changes = tuple(spool.rejected), spool.has_changes
    if broken and strict_refs:
        raise DanglingReferences(
            f"{plural(len(broken), 'reference')} of active units would dangle "
            f"(first: {broken[0].describe()})",
            hint="fix the citing units in the same change, or plan without --strict-refs",
        )
    if rejected:
        if as_json:
            # the JSON above lists them: one JSON document per command
            note(f"iucut: {plural(len(rejected), 'document')} rejected")
            raise SystemExit(InputError.exit_code)
        raise rejected_error(rejected, "nothing is planned for it")
    if has_changes:
        # SystemExit, not click's Exit: under standalone_mode=False (cli.main) click
        # swallows Exit and *returns* its code, which main() then turned into exit 0
        raise SystemExit(PLAN_CHANGES_EXIT)


def _prune_scopes(ctx: Context, paths: tuple[Path, ...], glob: str, root: Path | None) -> list[str]:
    """The folders --prune retires missing documents under (as stored paths). A folder
    with no file matching ``glob`` is refused: pruning it would retire every document
    under it, which is far more often a wrong folder or glob than the intent."""
    project = ctx.root(named(paths, glob), root)
    for folder in paths:
        if folder.is_dir() and next(iter_sources([folder], glob), None) is None:
            raise click.UsageError(
                f"--prune: no file in {folder} matches {glob!r}, so every document under it "
                "would be retired; nothing was done. Check the folder and --glob (to retire "
                "a removed folder's documents, prune the folder that held it)."
            )
    return [project.doc_path(p, follow_symlinks=True) for p in paths if p.is_dir()]


@cli.command("apply")
@with_sources
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply this reviewed plan exactly (refused if stale or for another database).",
)
@click.option("--prune", is_flag=True, help="Retire documents missing from the given folders.")
@click.option(
    "--all-or-nothing",
    is_flag=True,
    help="Write nothing if any document is rejected when cut; stop at the first document "
    "that fails to apply (those already written stay: each is its own transaction).",
)
@click.option(
    "--require-proof",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply only if this proof report passed for the same plan and database.",
)
@click.option(
    "--single-transaction",
    is_flag=True,
    help="With --plan: apply the whole plan in one transaction (all of it or none of it, "
    "even if the process dies or the database is frozen midway).",
)
@click.option("--rehash", is_flag=True, help=REHASH_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def apply_cmd(
    ctx: Context,
    paths: tuple[Path, ...],
    glob: str,
    root: Path | None,
    plan_file: Path | None,
    prune: bool,
    all_or_nothing: bool,
    require_proof: Path | None,
    single_transaction: bool,
    rehash: bool,
    as_json: bool,
) -> None:
    """Write units to the database through the SQL functions (needs the kill-switch on).

    Live execution is OFF unless IUCUT_EXECUTION=enabled: while off, apply is refused
    before any connection is opened (exit code 5). One transaction per document.

    With --plan, every document of the plan is locked and every precondition checked
    before the first write: a stale plan writes nothing (exit 7). If a write fails after
    others were written, the output lists what was written and what was not.
    """
    if paths:  # the project root first: its iucut.yaml is the configuration to read
        ctx.root(named(paths, glob), root)
    settings = ctx.settings
    apply_mod.ensure_enabled(settings)  # first: no connection, no cut, nothing
    if single_transaction and plan_file is None:
        raise click.UsageError("--single-transaction needs --plan FILE (the plan to apply)")
    shown: list[IucutError] = []  # (the documents that cannot be cut, said as they come)
    store = Store(settings)
    if plan_file is not None or require_proof is not None:
        if plan_file is None:
            raise click.UsageError("--require-proof needs --plan FILE (the plan it proved)")
        if paths:
            raise click.UsageError("give either PATHs or --plan, not both")
        the_plan, plan_id = planfile.read_plan(plan_file)
        with progress(not as_json, "applying") as bar:
            result = store.apply_plan(
                the_plan,
                plan_id,
                single_transaction=single_transaction,
                require_proof=require_proof,
                on_progress=bar,
            )
    else:
        # the database driver is imported meanwhile, while the corpus is walked
        preload(settings.driver)
        scopes = _prune_scopes(ctx, paths, glob, root) if prune else None
        # the digests first (no text held), then each document to write is cut again as
        # it is written: memory is a few documents, not the corpus
        digests, recut = digest_sources(
            ctx, paths, glob, root, show=not as_json, rehash=rehash, fast=True, errors=shown
        )
        # (the cutting pass's bar first: the digests are read as the triage asks for them)
        with progress_later(not as_json, "applying") as bar:
            result = store.apply_digests(
                digests,
                recut,
                prune_scopes=scopes,
                all_or_nothing=all_or_nothing,
                on_progress=bar,
                jobs=jobs_of(),
                # (what this home last saw of the stored documents: iucut.seen;
                # --rehash trusts nothing remembered and reads every stored row)
                seen_cache=None if rehash else settings.home / digests_mod.FILE_NAME,
            )
    if result.stopped is not None:
        _raise_stopped(result, as_json)
    if as_json:
        show_rejections(result.rejected, shown)  # (the text lists them on stdout)
        echo_json({**result.to_dict(), "warnings": ctx.warning_dicts()})
    else:
        for doc in result.outcomes:
            if doc.status == "failed":
                click.echo(printable(f"{doc.doc_path}: FAILED: {doc.error}"))
            elif doc.status == "not_written":
                click.echo(printable(f"{doc.doc_path}: NOT WRITTEN"))
            elif doc.status == "applied":
                click.echo(f"{printable(doc.doc_path)}: {summary_line(doc.counts)}")
        for rejected in result.rejected:
            click.echo(printable(f"rejected: {_reason(rejected)}"))
        # (counted, not made again: a first apply's results are the corpus's)
        applied, failed = result.outcomes.tally("applied"), result.outcomes.tally("failed")
        unchanged = len(result.skipped) + len(result.outcomes) - applied - failed
        click.echo(
            f"apply: {summary_line(result.counts)}  ({plural(applied, 'document')} "
            f"written, {unchanged} unchanged, "
            f"{failed} failed, {len(result.rejected)} rejected) "
            f"run {result.run_id or '-'} in {result.seconds:.2f}s"
        )
        strict_reminder(ctx)
    if not (result.outcomes.tally("failed") or result.rejected):
        return
    written = result.outcomes.tally("applied")
    others = (
        f"{plural(written, 'other document')} written"
        if written
        else "nothing was written"
        if not result.unchanged
        else "no other document needed writing"
    )
    if result.failed:
        error: IucutError = IucutError(f"{plural(len(result.failed), 'document')} failed; {others}")
    elif as_json:
        error = InputError(
            f"{plural(len(result.rejected), 'document')} rejected; {others}",
            path=result.rejected[0].path,
        )
    else:
        more = f"; {others}" if written or others.startswith("no other") else ""
        error = rejected_error(result.rejected, f"nothing was written for it{more}")
    if as_json:
        note(f"iucut: {error.message}")  # the JSON above has the details
        raise SystemExit(error.exit_code)
    raise error


def _raise_stopped(result: apply_mod.ApplyResult, as_json: bool) -> None:
    """A reviewed plan stopped after some documents were written: list what was written
    and what was not (stdout, or the one JSON document), then fail with the cause."""
    exc = result.stopped
    assert exc is not None
    written = result.written
    missed = [d for d in result.outcomes if d.status in ("failed", "not_written")]
    if not as_json:
        for doc in written:
            click.echo(f"{printable(doc.doc_path)}: written {summary_line(doc.counts)}")
        for doc in missed:
            click.echo(f"{printable(doc.doc_path)}: NOT WRITTEN")
    exc.message = (
        f"the plan stopped after {plural(len(written), 'document')} of "
        f"{len(written) + len(missed)} were written (run {result.run_id}); "
        f"{len(missed)} were not: {exc.message}"
    )
    exc.args = (exc.message,)
    exc.context["result"] = {k: v for k, v in result.to_dict().items() if k != "stopped"}
    exc.hint = (exc.hint + "; " if exc.hint else "") + (
        "plan again: the new plan holds only what is left (--single-transaction writes all "
        "or nothing)"
    )
    raise exc
