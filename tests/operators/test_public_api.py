"""Every name the docs' Public API table (docs/reference/index.md) lists imports from the path it gives."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

PUBLIC_API_PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "index.md"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PACKAGES = ("airflow_provider_aep", "aep_emulator")


def public_api_rows() -> list[tuple[list[str], list[str]]]:
    """(names, modules) of each row of the first table under ``## Public API``."""
    text = PUBLIC_API_PAGE.read_text()
    lines = text[text.index("## Public API") :].splitlines()[1:]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    rows = []
    for line in table:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("what", "---"):
            continue
        names = [name for name in re.findall(r"`([^`]+)`", cells[0]) if IDENTIFIER.fullmatch(name)]
        modules = [m for m in re.findall(r"`([^`]+)`", cells[1]) if m.startswith(PACKAGES)]
        rows.append((names, modules))
    return rows


def test_every_public_name_imports_from_its_documented_path() -> None:
    rows = public_api_rows()
    assert len(rows) >= 15, "the Public API table was not found"
    checked = 0
    for names, modules in rows:
        assert modules, names
        loaded = [importlib.import_module(module) for module in modules]
        for name in names:
            assert any(hasattr(module, name) for module in loaded), f"{name} is not in {', '.join(modules)}"
            checked += 1
    assert checked >= 40
