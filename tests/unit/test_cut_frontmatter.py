"""Front matter: parsed exactly as PyYAML's safe loader parses it (the loader's shortcuts
change no value and no type), TOML too; broken front matter is a warning, not an error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from iucut.cut.frontmatter import split_front_matter


def typed(value: Any) -> Any:
    """A value with the type of every element made visible (1 != True != 1.0 here)."""
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


def parse(block: str) -> Any:
    end, data, warning = split_front_matter(f"---\n{block}---\n# Body\n")
    assert end > 0
    return data, warning


SCALARS = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "off",
            "~",
            "null",
            "0o17",
            "0x1f",
            "1_000",
            "1:20",
            "2026-02-13",
            "2026-02-13 10:00:00",
            ".inf",
            "-.nan",
            "=",
            "<<",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), VALUES, min_size=1, max_size=6))
def test_dumped_mappings_load_as_the_safe_loader_loads_them(data: dict[str, Any]) -> None:
    block = yaml.safe_dump(data, allow_unicode=True)
    ours, warning = parse(block)
    assert warning is None
    assert typed(ours) == typed(yaml.load(block, Loader=yaml.SafeLoader))


@pytest.mark.parametrize(
    "block",
    [
        'title: "Nghị định 58/2026/NĐ-CP"\ndate: 2026-02-13\ntags: [a, 58/2026/ND-CP]\n',
        "a: &x {k: 1, s: text}\nb: *x\nc:\n  <<: *x\n  k: 2\n",
        "when: 2001-12-14t21:59:43.10-05:00\nn: 0o17\nf: 1e3\nflag: yes\nnone: ~\n",
        "s: 'quoted: yes'\nd: \"\\u00e4\\x41\"\nblock: |\n  two\n  lines\n",
        "? complex key\n: value\n",
    ],
)
def test_hand_written_front_matter_loads_as_the_safe_loader_loads_it(block: str) -> None:
    ours, warning = parse(block)
    assert warning is None
    assert typed(ours) == typed(yaml.load(block, Loader=yaml.SafeLoader))
    assert isinstance(ours, dict)


def test_a_shared_anchor_is_one_object_as_in_the_safe_loader() -> None:
    ours, _ = parse("a: &x [1, 2]\nb: *x\n")
    assert ours["a"] is ours["b"]
    assert ours == {"a": [1, 2], "b": [1, 2]}


def test_dates_stay_dates() -> None:
    ours, _ = parse("date: 2026-02-13\nat: 2026-02-13 10:00:00\n")
    assert ours == {"date": dt.date(2026, 2, 13), "at": dt.datetime(2026, 2, 13, 10, 0)}


@pytest.mark.parametrize(
    ("block", "warning"),
    [
        ("a: [1, 2\n", "front matter does not parse (line 2); ignored"),
        ("- a\n- b\n", "front matter is not a mapping; ignored"),
    ],
)
def test_broken_front_matter_is_a_warning(block: str, warning: str) -> None:
    end, data, said = split_front_matter(f"---\n{block}---\ntext\n")
    assert end > 0 and data == {}
    assert said is not None and said.startswith(warning.split(" (")[0])


def test_toml_front_matter() -> None:
    end, data, warning = split_front_matter('+++\ntitle = "T"\nn = 3\n+++\n# Body\n')
    assert (data, warning) == ({"title": "T", "n": 3}, None)
    assert end == len('+++\ntitle = "T"\nn = 3\n+++\n')
