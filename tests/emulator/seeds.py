"""The tutorials' requests and example answers, from the fixtures in ``tests/adobe/tutorials/``.

Each ``curl`` call is a :class:`SeedCall` (method, path, JSON body text) paired with the JSON example
answer that follows it; the doc slips are fixed in ``tests.adobe.seed_tutorials``, in one place.
"""

from __future__ import annotations

from tests.adobe.seed_tutorials import TutorialCall, tutorial_calls

SeedCall = TutorialCall


def seed_calls(prefix: str) -> list[SeedCall]:
    """Every ``curl`` call of a seed, in order, with its example answer."""
    return tutorial_calls(prefix)
