"""An offline, stateful Adobe Experience Platform (and Adobe IMS) served over real HTTP.

Start it with ``aep-emulator serve`` or from Python with
:class:`aep_emulator.testing.RunningEmulator`. It depends only on starlette,
uvicorn and the standard library, so importing it never pulls in Airflow.
"""

from __future__ import annotations

from aep_emulator.settings import EmulatorSettings

__all__ = ["EmulatorSettings"]
