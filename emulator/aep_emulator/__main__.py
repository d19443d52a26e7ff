"""``python -m aep_emulator`` is the ``aep-emulator`` command."""

from __future__ import annotations

from aep_emulator.cli import main

raise SystemExit(main())
