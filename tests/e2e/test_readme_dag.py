"""The README shows the docs' minimal DAG unchanged: ``docs/examples/minimal_dag.py``, the file
``test_docs_minimal_dag.py`` runs against the emulator and the Getting started page includes."""

from __future__ import annotations

import re

from .harness import REPO_ROOT

EXAMPLE = REPO_ROOT / "docs" / "examples" / "minimal_dag.py"
DAG_ID = "my_paypal_products"


def readme_dag() -> str:
    """The README's one Python block that defines ``my_paypal_products``."""
    blocks: list[str] = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    [block] = [block for block in blocks if f'dag_id="{DAG_ID}"' in block]
    return block


def test_the_readme_shows_the_tested_minimal_dag() -> None:
    assert readme_dag() == EXAMPLE.read_text()


def test_the_getting_started_page_includes_the_tested_file() -> None:
    page = (REPO_ROOT / "docs" / "getting-started.md").read_text()
    assert '--8<-- "docs/examples/minimal_dag.py"' in page
