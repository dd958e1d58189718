"""Atheris harness: the compiled cutter core against the Python cutter on fuzzed input.

Each input is one selector byte and a document. The selector picks the cut's options
(detected profile, each built-in profile, configured rules) and how the document reaches
the public API: as bytes (invalid UTF-8 included: both cutters must refuse it alike) or as
text (invalid bytes decoded to lone surrogates). Every input must cut to the same
CutDocument (or the same InputError) compiled and in Python, every cut must reassemble
its source byte for byte, and the core's block scan must give the Python scan's marks on
the text. A difference raises, which atheris reports as a crash with the input saved.

Run through ``fuzz/run.sh`` (it preloads the sanitizer runtime); ``--seeds DIR`` writes the
seed corpus (slices of ../shared/corpora and the CommonMark spec examples) and exits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import atheris

# Not instrumented: the coverage that guides the fuzzer is the C core's (built with
# -fsanitize=fuzzer-no-link); Python-side tracing would only slow each input down.
from iucut.cut import blocks, cutter
from iucut.errors import InputError
from iucut.units import CutDocument

HERE = Path(__file__).resolve().parent
CORPORA = HERE.parents[1] / "shared" / "corpora"
if not CORPORA.is_dir():  # a worktree: /work/wt/<name>/fuzz → /work/shared/corpora
    CORPORA = HERE.parents[2] / "shared" / "corpora"

#: Configured rules (the core matches them natively, as programs of rxcode).
CONFIG: dict[str, Any] = {
    "labels": {
        "de": [
            {
                "kind": "article",
                "rank": 50,
                "prefix": "A",
                "head": r"Art(?:icle)?\.? (?P<label>\d+)",
                "line": r"Art\. (?P<label>\d+)\.?",
                "start": "Art",
                "strict": True,
            }
        ],
        "xx": [
            {
                "kind": "clause",
                "rank": 60,
                "prefix": "N",
                "head": r"N(?P<label>\d+)",
                "line": r"N(?P<label>\d+)\)",
                "start": "N",
            }
        ],
    }
}
OPTIONS: tuple[dict[str, Any], ...] = (
    {},
    {"profile": "vi"},
    {"profile": "de"},
    {"profile": "en"},
    {"config": CONFIG},
    {"profile": "xx", "config": CONFIG},
)
CAND, HINT = cutter._patterns(cutter._BUILTIN_STARTS)


class Mismatch(AssertionError):
    """The compiled core and the Python cutter disagree, or a cut loses bytes."""


def outcome(compiled: bool, data: bytes | str, **kw: Any) -> Any:
    """The cut document, or the InputError (type and message) it raised."""
    cutter.COMPILED = compiled
    try:
        return cutter.cut_text(data, "docs/x.md", **kw)
    except InputError as exc:
        return ("InputError", str(exc))
    finally:
        cutter.COMPILED = True


def check_round_trip(doc: CutDocument, data: bytes | str) -> None:
    """The units' texts and byte spans reassemble the source exactly, in order."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    if doc.reassemble().encode("utf-8") != raw:
        raise Mismatch("the units' texts do not reassemble the source")
    at = 0
    for u in doc.units:
        if u.byte_start != at or raw[u.byte_start : u.byte_end] != u.text.encode("utf-8"):
            raise Mismatch(f"unit {u.position} ({u.code}): span {u.byte_start}:{u.byte_end}")
        at = u.byte_end
    if at != len(raw):
        raise Mismatch(f"the spans end at {at}, the source has {len(raw)} bytes")


def check_scan(text: str) -> None:
    """The core's scan of any text (lone surrogates too) gives blocks.scan's marks.

    The text is first prepared as the cutter prepares it (lone CRs become newlines): no
    scan is ever given a lone CR, and the two scanners expand a tab after one differently.
    """
    text = cutter._LONE_CR.sub("\n", text)
    for start in (0, min(len(text), 1)):
        c = [tuple(m) for m in cutter._core.Scan(text, start, cutter._program(HINT)).marks()]
        p = [tuple(m) for m in blocks.scan(text, start, CAND, HINT)]
        if c != p:
            raise Mismatch(f"scan from {start}: compiled {c[:3]}..., python {p[:3]}...")


def TestOneInput(data: bytes) -> None:
    """One fuzzed input: see the module docstring."""
    if not data:
        return
    sel, body = data[0], data[1:]
    kw = OPTIONS[sel % len(OPTIONS)]
    doc: bytes | str = body.decode("utf-8", "surrogateescape") if sel & 0x80 else body
    fast = outcome(True, doc, **kw)
    ref = outcome(False, doc, **kw)
    if fast != ref:
        raise Mismatch(f"options {kw}: compiled and python cuts differ")
    if isinstance(fast, CutDocument):
        check_round_trip(fast, doc)
    if sel & 0x40:
        check_scan(body.decode("utf-8", "surrogateescape"))


def write_seeds(out: Path) -> int:
    """Seed inputs: slices of every corpus file, the CommonMark spec examples, and the
    label styles of tests/unit/test_cut_styles.py (seeds/styles.md) with every option."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0

    def put(sel: int, text: bytes) -> None:
        nonlocal n
        (out / f"seed-{n:05d}").write_bytes(bytes([sel]) + text)
        n += 1

    spec = json.loads((HERE / "seeds" / "commonmark-spec.json").read_text(encoding="utf-8"))
    for i, example in enumerate(spec["examples"]):
        put(i % 256, example.encode("utf-8"))
    styles = (HERE / "seeds" / "styles.md").read_bytes()
    for sel in range(2 * len(OPTIONS)):  # each option, as bytes and as text
        for at in range(0, len(styles), 2048):
            put(sel % len(OPTIONS) | (0x80 if sel >= len(OPTIONS) else 0), styles[at : at + 2048])
    files = sorted(p for p in CORPORA.rglob("*.md") if p.is_file()) if CORPORA.is_dir() else []
    for i, path in enumerate(files):
        raw = path.read_bytes()
        for j, at in enumerate((0, len(raw) // 3, 2 * len(raw) // 3)):
            put((i * 3 + j) % 256, raw[at : at + 2048])
    return n


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        print(f"{write_seeds(Path(sys.argv[2]))} seed inputs in {sys.argv[2]}")
        return
    if cutter._core is None or not cutter.COMPILED:
        sys.exit("fuzz_cut.py: the compiled core is not in use (built? IUCUT_PURE_PYTHON?)")
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
