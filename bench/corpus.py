"""Generated legal-structured Markdown for benchmarks and stress tests, and a state digest.

Documents look like the Vietnamese normative texts of ``../shared/corpora/vn-laws``:
front matter, a preamble, ``## Chương`` chapters, ``### Điều N.`` articles, clauses
``1.`` and points ``a)``, with text of realistic size. Generation is deterministic for
a given seed, so two processes produce the same bytes.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

VOCABULARY = (
    "cơ quan nhà nước quy định trách nhiệm thực hiện theo pháp luật hành chính tổ chức "
    "cá nhân có thẩm quyền quản lý hoạt động đầu tư công ngân sách trung ương địa phương "
    "bảo đảm công khai minh bạch hiệu quả phù hợp với kế hoạch phát triển kinh tế xã hội "
    "trường hợp cần thiết được sửa đổi bổ sung hướng dẫn chi tiết thi hành điều khoản "
    "báo cáo kiểm tra giám sát xử lý vi phạm theo thời hạn quy định tại văn bản này"
)
WORDS = VOCABULARY.split()

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
POINTS = "abcdđeghiklmnopqrstuvxy"


def sentence(rng: random.Random, low: int = 12, high: int = 40) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def legal_document(
    number: int,
    *,
    chapters: int = 5,
    articles: int = 10,
    clauses: int = 3,
    points: int = 2,
    seed: int = 0,
) -> str:
    """One document: ``chapters × articles`` articles of ``clauses`` clauses of ``points``.

    Units per document (cut by the Vietnamese profile): 1 document + chapters +
    articles × (1 + clauses × (1 + points)); the defaults give 506.
    """
    rng = random.Random(f"{seed}:{number}")
    out = [
        "---\n",
        f'title: "Luật thử nghiệm số {number}/2026/QH16"\n',
        f'so_hieu: "{number}/2026/QH16"\n',
        "loai_van_ban: Luật\n",
        "---\n\n",
        f"# LUẬT SỐ {number}/2026/QH16\n\n",
        sentence(rng, 20, 40) + "\n\n",
    ]
    article = 0
    for c in range(chapters):
        out.append(f"## Chương {ROMAN[c % len(ROMAN)]}. {sentence(rng, 3, 6)[:-1].upper()}\n\n")
        for _ in range(articles):
            article += 1
            out.append(f"### Điều {article}. {sentence(rng, 3, 8)[:-1]}\n\n")
            out.append(sentence(rng) + "\n\n")
            for k in range(1, clauses + 1):
                out.append(f"{k}. {sentence(rng, 20, 50)}\n\n")
                for p in range(points):
                    out.append(f"{POINTS[p]}) {sentence(rng, 10, 30)}\n\n")
    return "".join(out)


def write_corpus(folder: Path, documents: int, *, seed: int = 0, **shape: int) -> list[Path]:
    """Write ``documents`` generated documents into ``folder`` (created); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(1, documents + 1):
        path = folder / f"luat-{n:04d}.md"
        path.write_text(legal_document(n, seed=seed, **shape), encoding="utf-8")
        paths.append(path)
    return paths


def revise_clause(text: str, article: int = 1, clause: int = 1, marker: str = "sửa đổi") -> str:
    """The text with one clause of one article edited (a word appended to its sentence)."""
    start = text.index(f"### Điều {article}. ")
    found = re.compile(rf"^{clause}\. .*?\.$", re.MULTILINE).search(text, start)
    assert found is not None, (article, clause)
    end = found.end() - 1
    return text[:end] + f" ({marker})" + text[end:]


#: A digest of what the units say, blind to what differs between equivalent histories:
#: surrogate ids, run ids, timestamps and actors. Two databases that went through the
#: same changes, however interrupted and retried, have the same digest.


def digest_sql(schema: str = "public") -> str:
    """The state digest of ``schema`` (blind to ids, run ids and timestamps)."""
    from iucut.db import queries

    return queries.get("state_digest", schema)
