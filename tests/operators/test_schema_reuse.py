"""A schema found by title is reused only when it implements the requested class."""

from __future__ import annotations

import re

import pytest

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep.models.schemas import same_xdm_ref
from airflow_provider_aep.operators import (
    AEPCreateAdhocClassOperator,
    AEPCreateSchemaOperator,
    AEPResourceMismatchError,
)
from tests.operators.helpers import run

PROFILE = "https://ns.adobe.com/xdm/context/profile"
EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
SCHEMAS = "/data/foundation/schemaregistry/tenant/schemas"


def schema(class_id: str, title: str = "Loyalty members") -> AEPCreateSchemaOperator:
    return AEPCreateSchemaOperator(task_id="schema", title=title, class_id=class_id)


def posted_schemas(aep: RunningEmulator) -> int:
    return len([r for r in aep.requests() if r["method"] == "POST" and r["path"] == SCHEMAS])


@pytest.mark.parametrize("same_class", [PROFILE, "_xdm.context.profile"], ids=["$id", "meta:altId"])
def test_a_schema_of_the_requested_class_is_reused(aep: RunningEmulator, same_class: str) -> None:
    first, _ = run(schema(PROFILE))
    again, pushed = run(schema(same_class))
    assert again == first
    assert pushed["created"] is False
    assert posted_schemas(aep) == 1


def test_a_schema_of_another_class_is_not_reused(aep: RunningEmulator) -> None:
    first, _ = run(schema(PROFILE))
    with pytest.raises(AEPResourceMismatchError) as raised:
        run(schema(EXPERIENCE_EVENT))
    message = str(raised.value)
    assert first in message
    assert re.search(
        f"with class {re.escape(PROFILE)}, not the requested class {re.escape(EXPERIENCE_EVENT)}", message
    )
    assert posted_schemas(aep) == 1
    assert len(aep.state()["prod"]["schemas"]) == 1


def test_an_adhoc_schema_of_another_adhoc_class_is_not_reused(aep: RunningEmulator) -> None:
    classes = [
        run(AEPCreateAdhocClassOperator(task_id=f"c{i}", title=f"Raw table {i}", fields={"id": "string"}))[0]
        for i in (1, 2)
    ]
    run(schema(classes[0], title="Raw table schema"))
    with pytest.raises(AEPResourceMismatchError, match=re.escape(f"not the requested class {classes[1]}")):
        run(schema(classes[1], title="Raw table schema"))


def test_same_xdm_ref_reads_ids_and_alt_ids() -> None:
    assert same_xdm_ref("https://ns.adobe.com/acme/classes/1a2b", "_acme.classes.1a2b")
    assert same_xdm_ref(PROFILE, PROFILE + "/")
    assert not same_xdm_ref(PROFILE, EXPERIENCE_EVENT)
