"""Where Adobe's vendored OpenAPI specs are (``specs/``, Apache-2.0, see its README)."""

from __future__ import annotations

from pathlib import Path

SPECS = Path(__file__).resolve().parent / "specs"
