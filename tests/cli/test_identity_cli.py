"""The plan shows identity changes as a user sees them: a changed profile and a unit
moved to a new code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GERMAN = "# Abkommen\n\n## Art 1\n\n(1) Eins.\n\n## Art 2\n\n(1) Zwei.\n"
KAP = "# G\n\n## Abschnitt 1\n\n### Untertitel 1 - Vereine\n\n#### Kapitel 1 - A\n\n#### § 1 x\n"
MORE = "\n### Untertitel 2 - Stiftungen\n\n#### Kapitel 1 - B\n\n#### § 2 y\n"


def test_plan_shows_a_profile_change_and_a_move(cli_env: Any, tmp_path: Path) -> None:
    """After the first apply, front matter `iu_profile: en` makes plan print
    `profile: de → en`, and a label
    that starts to repeat prints `→ NEW (was OLD)`; both exit 2 (changes)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "abk.md").write_text(GERMAN, encoding="utf-8")
    (folder / "g.md").write_text(KAP, encoding="utf-8")
    on = {"IUCUT_EXECUTION": "enabled"}
    applied = cli_env.run("apply", str(folder), "--root", str(folder), env=on)
    assert applied.returncode == 0, applied.stderr
    (folder / "abk.md").write_text("---\niu_profile: en\n---\n" + GERMAN, encoding="utf-8")
    plan = cli_env.run("plan", str(folder / "abk.md"), "--root", str(folder))
    assert plan.returncode == 2, plan.stderr
    assert "  profile: de → en" in plan.stdout.splitlines()
    (folder / "g.md").write_text(KAP + MORE, encoding="utf-8")
    plan = cli_env.run("plan", str(folder / "g.md"), "--root", str(folder))
    assert plan.returncode == 2, plan.stderr
    assert "  → G/untertitel-1/Kap1 (was G/Kap1)  Kapitel 1 - A" in plan.stdout.splitlines()
