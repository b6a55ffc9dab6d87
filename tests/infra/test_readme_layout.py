"""The README's layout section names every top-level folder and package of the repository,
and every folder it names exists (a newcomer finds the code where the README says)."""

from __future__ import annotations

import re

from tests.infra.bicep_model import ROOT

_ENTRY = re.compile(r"^( *)(\S+(?: \S+/)*)")  # indent, then the names before the text


def _layout() -> list[tuple[int, str]]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    entries = []
    for line in block.splitlines():
        match = _ENTRY.match(line)
        if match and match.group(2).endswith(("/", ".py")):
            entries.append((len(match.group(1)), match.group(2)))
    return entries


def test_the_layout_names_every_top_level_folder_and_entry_module() -> None:
    top = {name for indent, name in _layout() if indent == 0}
    folders = {
        f"{p.name}/"
        for p in ROOT.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or p.name in ("infra", "scripts")
    }
    assert folders <= top, f"missing from README's layout: {sorted(folders - top)}"
    assert "function_app.py" in top


def test_every_folder_the_layout_names_exists() -> None:
    parent = ""
    for indent, name in _layout():
        if indent == 0:
            parent = name if name.endswith("/") else ""
            assert (ROOT / name).exists(), name
        else:
            for inner in re.findall(r"\S+/", name):
                assert (ROOT / parent / inner).is_dir(), f"{parent}{inner}"
