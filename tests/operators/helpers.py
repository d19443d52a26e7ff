"""Helpers for operator tests: a tiny task-instance fake and a context to call ``execute`` with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeTaskInstance:
    """Records what an operator pushes to XCom."""

    pushed: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def make_context() -> dict[str, Any]:
    """A minimal task context: only ``ti`` is read by the operators."""
    return {"ti": FakeTaskInstance()}


def run(operator: Any) -> tuple[Any, dict[str, Any]]:
    """Execute an operator; return its result and what it pushed to XCom."""
    context = make_context()
    result = operator.execute(context)
    return result, context["ti"].pushed
