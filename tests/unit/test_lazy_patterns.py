"""The built-in rules' patterns are compiled by ``re`` when first matched, not at import
(issue #16 part 3: ~25 ms of a re-sync that cuts one document), and each stands for the
``re.Pattern`` it compiles to."""

from __future__ import annotations

import copy
import pickle
import re
import subprocess
import sys

from iucut.cut.profiles import PROFILES

PATTERNS = [
    pattern
    for profile in PROFILES.values()
    for rule in profile.rules
    for pattern in (rule.head, rule.line)
    if pattern is not None
] + [profile.signature for profile in PROFILES.values()]
TEXTS = [
    "Điều 5. Phạm vi",
    "Chương II",
    "Article 12 Scope",
    "ARTICLE IV",
    "Section 3.",
    "§ 4 Geltung",
    "(2) Absatz",
    "a) point",
    "1. One",
    "Part 2 — General",
    "plain text",
    "Annex I",
]


def test_importing_the_profiles_compiles_no_pattern() -> None:
    """Importing the cutter compiles none of the rules' patterns with ``re``, and a
    document cut by the compiled core with its programs kept compiles few."""
    probe = (
        "import re\n"
        "made = []\n"
        "real = re.compile\n"
        "def counting(p, flags=0):\n"
        "    made.append(p)\n"
        "    return real(p, flags)\n"
        "re.compile = counting\n"
        "import iucut.cut.profiles as p\n"
        "print(sum(1 for m in made if any(m == r.head.pattern for pr in p.PROFILES.values()"
        " for r in pr.rules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "0"


def test_a_lazy_pattern_is_the_pattern_it_compiles_to() -> None:
    """Matches, flags, groups, equality, copies and pickles: as ``re.compile``'s."""
    for lazy in PATTERNS:
        real = re.compile(lazy.pattern, getattr(lazy, "given_flags", 0))
        assert lazy.flags == real.flags
        assert dict(lazy.groupindex) == dict(real.groupindex)
        assert lazy.groups == real.groups
        for text in TEXTS:
            got, want = lazy.match(text), real.match(text)
            assert (got and got.group(0), got and got.groupdict()) == (
                want and want.group(0),
                want and want.groupdict(),
            )
            assert [m.span() for m in lazy.finditer(text)] == [
                m.span() for m in real.finditer(text)
            ]
            assert bool(lazy.search(text, 1)) == bool(real.search(text, 1))
        assert lazy == real
        assert copy.deepcopy(lazy) == lazy
        again = pickle.loads(pickle.dumps(lazy))
        assert again == lazy and again.pattern == lazy.pattern
        assert hash(again) == hash(lazy)
