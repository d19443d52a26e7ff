"""``python -m airflow_provider_aep.emulator`` is the ``aep-emulator`` command."""

from __future__ import annotations

from airflow_provider_aep.emulator.cli import main

raise SystemExit(main())
