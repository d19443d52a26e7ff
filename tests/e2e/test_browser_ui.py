"""The Airflow UI, driven in headless Chromium: trigger a tutorial DAG from its form, and see the AEP
connection form with its own fields."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aep_emulator.testing import RunningEmulator

from .cdp import CHROMIUM, Browser
from .harness import StandaloneAirflow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.needs_tool(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium (headless UI test)"),
]

DAG_ID = "aep_payments_batch"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(tmp_path / "chromium-profile") as opened:
        yield opened


def test_trigger_form_runs_the_dag_with_a_changed_param(
    standalone: StandaloneAirflow, standalone_emulator: RunningEmulator, browser: Browser, artifacts: Path
) -> None:
    before = {run["dag_run_id"] for run in standalone.dag_runs(DAG_ID)}
    browser.navigate(f"{standalone.url}/dags/{DAG_ID}")
    browser.click_text("Trigger")
    browser.wait_for_text("Run Parameters")
    browser.fill("#element_name_prefix", "Airflow UI payments")
    browser.screenshot(artifacts / "trigger-form.png")
    browser.click_text("Trigger", last=True)  # the dialog's button, not the page's

    browser.wait_for("location.pathname.includes('/runs/')", what="the new run's page")
    [run] = [
        run for run in standalone.wait_for_runs(DAG_ID, len(before) + 1) if run["dag_run_id"] not in before
    ]
    assert run["conf"]["name_prefix"] == "Airflow UI payments"
    assert run["state"] == "success", f"see {standalone.log_path}"
    browser.navigate(f"{standalone.url}/dags/{DAG_ID}/runs/{run['dag_run_id']}")
    browser.wait_for_text("Success")
    browser.screenshot(artifacts / "triggered-run.png")

    flows = standalone_emulator.state()["prod"]["flows"]
    assert "Airflow UI payments dataflow" in {flow["name"] for flow in flows}, (
        "the changed param was not used"
    )


def test_aep_connection_form_shows_its_own_fields(
    standalone: StandaloneAirflow, browser: Browser, artifacts: Path
) -> None:
    browser.navigate(f"{standalone.url}/connections")
    browser.click_text("Add Connection")
    browser.fill("[role=combobox]", "Adobe")
    browser.click_text("Adobe Experience Platform", selector="[role=option]")
    for label in ("Platform gateway URL", "Client ID (API key)", "Client secret"):
        browser.wait_for_text(label)
    browser.wait_for("!!document.querySelector('#element_org_id')", what="the aep extra fields")
    # The provider's own fields are in the collapsed "Extra Fields" section; the form re-renders once
    # its defaults load, which can swallow a click made just before: open it until it stays open.
    for _ in range(5):
        browser.click_text("Extra Fields")
        time.sleep(1.0)
        if browser.evaluate("document.body.innerText.includes('IMS organization ID')"):
            break
    for label in ("IMS organization ID", "Sandbox", "Scopes", "IMS URL"):
        browser.wait_for_text(label)
    fields = browser.evaluate("Array.from(document.querySelectorAll('input')).map(e => e.id)")
    assert {"element_org_id", "element_sandbox", "element_scopes", "element_ims_url"} <= set(fields)
    assert browser.evaluate("document.querySelector('#element_sandbox').value") == "prod"
    browser.screenshot(artifacts / "aep-connection-form.png")
