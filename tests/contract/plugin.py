"""pytest plugin: record every request the session sends to an emulator, then hold the provider's to the
contract.

At start-up it points ``AEP_EMULATOR_RECORD`` at a fresh file, so every emulator the tests start (in
this process or, through the inherited environment, in a subprocess) appends the requests it gets. At
the end it checks each request the provider sent (``User-Agent: airflow-provider-aep/...``, from tasks,
triggers and Airflow subprocesses alike) with ``request_check``, drops what ``contract_allowlist.yaml``
allows, and fails the session listing each remaining violation with the test that was running when it
was sent. Requests tests craft by hand (to probe the emulator's answers to bad input) are counted, not
checked.
"""

from __future__ import annotations

import bisect
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest

from aep_emulator.recording import RECORD_ENV
from tests.contract.allowlist import load_allowlist, split_allowed
from tests.contract.body_check import UNKNOWN_FIELD
from tests.contract.request_check import Violation, check_request

BETWEEN_TESTS = "(between tests)"
PROVIDER_AGENT = "airflow-provider-aep/"
#: The key of a worker's tallies in xdist's ``workeroutput``.
WORKER_OUTPUT = "aep_request_contract"


def sent_by_provider(record: dict[str, Any]) -> bool:
    """Whether the provider sent the request (its hooks and inlet calls send ``User-Agent:
    airflow-provider-aep/<version>``); tests that craft requests by hand to probe the emulator do not."""
    return str(record.get("user_agent") or "").startswith(PROVIDER_AGENT)


class RunTimeline:
    """When each test ran, to name the test that sent a request."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._starts: list[float] = []
        self._windows: list[tuple[float, float, str]] = []

    def start(self, nodeid: str) -> None:
        self._started[nodeid] = time.time()

    def finish(self, nodeid: str) -> None:
        started = self._started.pop(nodeid, time.time())
        self._windows.append((started, time.time(), nodeid))
        self._starts.append(started)

    def test_at(self, moment: float) -> str:
        """The test running at ``moment`` (tests run one after another)."""
        index = bisect.bisect_right(self._starts, moment) - 1
        if index >= 0 and moment <= self._windows[index][1]:
            return self._windows[index][2]
        return BETWEEN_TESTS


def read_records(path: Path) -> list[dict[str, Any]]:
    """The recorded requests (a torn last line, from a process killed mid-write, is skipped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def report_lines(violations: dict[Violation, list[str]]) -> list[str]:
    """One line per violation and the tests that sent it; unknown fields that share a parent object
    and the same senders are folded into one line (a foreign payload would otherwise take dozens)."""
    folded: dict[tuple[str, str, str, tuple[str, ...]], list[tuple[str, int]]] = defaultdict(list)
    lines: list[str] = []
    for violation, tests in sorted(violations.items(), key=lambda item: str(item[0])):
        senders = tuple(sorted(set(tests)))
        if violation.message == UNKNOWN_FIELD and "." in violation.field:
            parent, _, name = violation.field.rpartition(".")
            folded[(violation.operation, violation.where, parent, senders)].append((name, len(tests)))
            continue
        where = f"{violation.where} {violation.field}".strip()
        lines.append(
            f"{violation.operation} | {where}: {violation.message} | {_senders(len(tests), senders)}"
        )
    for (operation, where, parent, senders), fields in folded.items():
        names = [name for name, _ in fields]
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        field = f"{parent}.{names[0]}" if len(names) == 1 else f"{parent}.{{{shown}}}"
        sent = _senders(max(count for _, count in fields), senders)
        lines.append(f"{operation} | {where} {field}: {UNKNOWN_FIELD} | {sent}")
    return sorted(lines)


def _senders(count: int, senders: tuple[str, ...]) -> str:
    shown = ", ".join(senders[:3]) + (f" and {len(senders) - 3} more" if len(senders) > 3 else "")
    return f"{count}x, sent by {shown}"


class RequestContractPlugin:
    """Records the session's requests and fails the session on a contract violation."""

    def __init__(self) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="aep-request-contract-"))
        self.record_file = self._directory / "requests.jsonl"
        self._previous = os.environ.get(RECORD_ENV)
        os.environ[RECORD_ENV] = str(self.record_file)
        self.clock = RunTimeline()
        self.checked = 0
        self.not_checked = 0
        self.allowed = 0
        self.violations: dict[Violation, list[str]] = {}
        self.error = ""
        self.workers = 0

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.clock.start(nodeid)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.clock.finish(nodeid)

    def check(self) -> None:
        """Check every request recorded in this process's file; keep the violations no allow-list entry
        covers (added to what workers reported, under xdist)."""
        allowlist = load_allowlist()
        records = read_records(self.record_file)
        provider_records = [record for record in records if sent_by_provider(record)]
        for record in provider_records:
            violations, allowed = split_allowed(check_request(record), allowlist)
            self.allowed += len(allowed)
            for violation in violations:
                sender = self.clock.test_at(float(record.get("time", 0)))
                self.violations.setdefault(violation, []).append(sender)
        self.checked += len(provider_records)
        self.not_checked += len(records) - len(provider_records)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        try:
            self.check()
        except Exception as error:  # a broken allow-list or spec must fail the session, visibly
            self.error = f"{type(error).__name__}: {error}"
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller reports and fails the session
            workeroutput[WORKER_OUTPUT] = self.tallies()
            return
        if (self.violations or self.error) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def tallies(self) -> dict[str, Any]:
        """What a worker found, in the plain types xdist carries to the controller."""
        return {
            "checked": self.checked,
            "not_checked": self.not_checked,
            "allowed": self.allowed,
            "error": self.error,
            "violations": [[list(astuple(violation)), tests] for violation, tests in self.violations.items()],
        }

    def add(self, tallies: dict[str, Any]) -> None:
        """Add a worker's :meth:`tallies` to this (the controller's) own."""
        self.workers += 1
        self.checked += int(tallies["checked"])
        self.not_checked += int(tallies["not_checked"])
        self.allowed += int(tallies["allowed"])
        self.error = "; ".join(filter(None, (self.error, str(tallies["error"]))))
        for fields, tests in tallies["violations"]:
            self.violations.setdefault(Violation(*fields), []).extend(tests)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist: a worker finished; its tallies join the controller's (a crashed worker sends none)."""
        tallies = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if tallies is not None:
            self.add(tallies)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.error:
            terminalreporter.write_sep("=", "request contract: the check itself failed", red=True)
            terminalreporter.write_line(self.error)
            return
        if not self.violations:
            terminalreporter.write_line(
                f"request contract: {self.checked} provider requests checked against Adobe's specs, "
                f"{self.allowed} allowed deviations (tests/adobe/contract_allowlist.yaml), no violation "
                f"({self.not_checked} requests tests sent by hand not checked)"
                + (f"; from {self.workers} xdist workers" if self.workers else "")
            )
            return
        terminalreporter.write_sep("=", f"request contract: {len(self.violations)} violations", red=True)
        for line in report_lines(self.violations):
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            "Fix the request, or, if an Adobe document shows AEP taking it, add an entry to "
            "tests/adobe/contract_allowlist.yaml (docs/emulator.md: Request contract)."
        )

    def pytest_unconfigure(self) -> None:
        if self._previous is None:
            os.environ.pop(RECORD_ENV, None)
        else:
            os.environ[RECORD_ENV] = self._previous
        shutil.rmtree(self._directory, ignore_errors=True)
