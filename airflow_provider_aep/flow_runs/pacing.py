"""When a trigger polls, and how many of its requests may be in flight at once.

A triggerer holds thousands of :class:`~airflow_provider_aep.flow_runs.trigger.AEPFlowRunTrigger`
waits in one event loop. Had each polled ``poll_interval`` seconds after it started, waits picked up
together (a triggerer restart, a backfill deferring a thousand tasks) would poll in lockstep: every
request of a round queued at once on the shared connection pool. Instead:

* **Polls keep a schedule on the wall clock.** A wait polls at ``phase + k * poll_interval`` (epoch
  seconds), where the phase is one of :data:`SLOTS_PER_INTERVAL` slots of the interval chosen by a
  stable hash (BLAKE2b, the same in every process) of what the wait looks up: the dataflow id in window
  mode, the run ids otherwise. Waits of many dataflows or runs are so spread over the interval, while
  the waits of one dataflow poll in the same instant and share one list request
  (:mod:`~airflow_provider_aep.flow_runs.batched_lookups`). The schedule depends only on the trigger's
  serialized kwargs: a triggerer restart resumes it, and a slow poll skips the slots it missed instead
  of drifting. The first poll comes at the next slot, within one interval of the deferral (the
  sensor and the run operator look once before they defer).
* **In-flight requests are bounded** per event loop by :data:`MAX_IN_FLIGHT`, below the 50
  connections of the shared client's pool (:func:`~airflow_provider_aep.hooks.aep_async.shared_async_client`),
  so a burst waits its turn in the trigger instead of piling up in the pool's queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import weakref
from dataclasses import dataclass

#: Poll phases per interval: the waits of one triggerer poll in at most this many instants a round.
SLOTS_PER_INTERVAL = 32
#: Slots are never narrower than this, so waits of one slot still meet in one coalesced look-up.
MIN_SLOT_SECONDS = 0.25
#: Requests of the triggers of one event loop in flight at once (the shared pool has 50 connections).
MAX_IN_FLIGHT = 32


def stable_fraction(key: str) -> float:
    """A number in ``[0, 1)`` from ``key``, the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class PollSchedule:
    """Poll times ``phase + k * interval`` on the wall clock (epoch seconds).

    :param interval: seconds between two polls.
    :param phase: offset of the polls within the interval, in ``[0, interval)``.
    """

    interval: float
    phase: float

    @classmethod
    def for_key(cls, key: str, interval: float) -> PollSchedule:
        """The schedule of a wait that looks ``key`` up: one of the interval's slots, by hash."""
        if not interval > 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {interval!r}")
        slots = max(1, min(SLOTS_PER_INTERVAL, int(interval / MIN_SLOT_SECONDS)))
        return cls(interval, int(stable_fraction(key) * slots) * interval / slots)

    def next_due(self, after: float) -> float:
        """The first poll time strictly after ``after`` (epoch seconds)."""
        return self.phase + (math.floor((after - self.phase) / self.interval) + 1) * self.interval


_slots_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def in_flight_slots() -> asyncio.Semaphore:
    """The semaphore bounding the triggers' requests on the running event loop (:data:`MAX_IN_FLIGHT`)."""
    loop = asyncio.get_running_loop()
    slots = _slots_by_loop.get(loop)
    if slots is None:
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        _slots_by_loop[loop] = slots
    return slots
