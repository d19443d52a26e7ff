"""One vocabulary: presets for the tutorials' sources on every operator that needs a spec id, list and
dict arguments from a rendered template, ``delta_column`` alike on the dataflow and the run, ``flow_id``."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.sdk import DAG

from aep_emulator.testing import RunningEmulator
from airflow_provider_aep import sources
from airflow_provider_aep.exceptions import AEPConfigError
from airflow_provider_aep.operators import (
    AEPCreateAdhocClassOperator,
    AEPCreateBaseConnectionOperator,
    AEPCreateDataflowOperator,
    AEPCreateDatasetOperator,
    AEPCreateMappingSetOperator,
    AEPCreateSchemaOperator,
    AEPCreateSourceConnectionOperator,
    AEPGetDataflowOperator,
    AEPUpdateDataflowOperator,
)
from airflow_provider_aep.operators.flow_runs import AEPTriggerFlowRunOperator
from tests.operators.helpers import run
from tests.operators.tutorials import TUTORIALS, Tutorial

PROFILE = "https://ns.adobe.com/xdm/context/profile"
MAPPINGS = [
    {"sourceAttribute": "Product_Id", "destinationXdmPath": "_id", "identity": False},
    {"sourceAttribute": "Product_Name", "destinationXdmPath": "product.name", "identity": False},
]
UUID = "0b8e8c51-9a5a-4e0b-9f35-6a1c2b3d4e5f"


def prod(aep: RunningEmulator, kind: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aep.state()["prod"][kind]
    return items


def rendered(operator: Any, **params: Any) -> Any:
    """Render the operator's templates as Airflow does for a DAG without ``render_template_as_native_obj``."""
    operator.render_template_fields({"params": params})
    return operator


@pytest.fixture
def schema_id(aep: RunningEmulator) -> str:
    schema = AEPCreateSchemaOperator(task_id="schema", title="Products", class_id=PROFILE)
    return str(run(schema)[0])


# -- list and dict arguments from a template -----------------------------------------------------


@pytest.mark.parametrize("template", ["{{ params.mappings }}", "{{ params.mappings | tojson }}"])
def test_a_list_param_rendered_to_text_is_read_back(
    aep: RunningEmulator, schema_id: str, template: str
) -> None:
    """``mappings="{{ params.mappings }}"`` renders Python's text of the list (``'`` quotes, ``False``)
    unless the DAG renders native objects; ``| tojson`` renders JSON. Both make the same mapping set."""
    with DAG("mappings_from_a_param", schedule=None, params={"mappings": MAPPINGS}):
        task = AEPCreateMappingSetOperator(task_id="mapping_set", schema_id=schema_id, mappings=template)
    rendered(task, mappings=MAPPINGS)
    assert isinstance(task.mappings, str)  # what arrived: text, not a list
    mapping_set_id, _ = run(task)
    [made] = [m for m in prod(aep, "mappingSets") if m["id"] == mapping_set_id]
    assert [(m["sourceAttribute"], m["destinationXdmPath"]) for m in made["mappings"]] == [
        ("Product_Id", "_id"),
        ("Product_Name", "product.name"),
    ]


def test_dict_and_list_arguments_of_a_dataflow_accept_rendered_text(aep: RunningEmulator) -> None:
    ids = TUTORIALS["001"](Tutorial("001"))
    flow_spec = next(f for f in prod(aep, "flows") if f["id"] == ids["flow"])["flowSpec"]["id"]
    schedule = {"startTime": 4102444800, "frequency": "once"}
    with DAG("dataflow_from_params", schedule=None):
        task = AEPCreateDataflowOperator(
            task_id="flow",
            name="From params",
            flow_spec_id=flow_spec,
            source_connection_ids="{{ params.sources | tojson }}",
            target_connection_ids="{{ params.targets }}",
            mapping_id=ids["mapping"],
            delta_column='{"name": "{{ params.column }}", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}',
            schedule_params="{{ params.schedule }}",
        )
    rendered(task, sources=[ids["source"]], targets=[ids["target"]], column="Update_Time", schedule=schedule)
    flow_id, _ = run(task)
    [flow] = [f for f in prod(aep, "flows") if f["id"] == flow_id]
    assert flow["sourceConnectionIds"] == [ids["source"]]
    assert flow["targetConnectionIds"] == [ids["target"]]
    assert flow["scheduleParams"]["frequency"] == "once"
    copy = next(t for t in flow["transformations"] if t["name"] == "Copy")
    assert copy["params"]["deltaColumn"] == {
        "name": "Update_Time",
        "dateFormat": "YYYY-MM-DD",
        "timezone": "UTC",
    }


BUILDERS: list[tuple[str, Callable[[Any], Any], str]] = [
    (
        "mappings",
        lambda v: AEPCreateMappingSetOperator(task_id="m", schema_id="s", mappings=v),
        "a list of mappings",
    ),
    (
        "columns",
        lambda v: AEPCreateSourceConnectionOperator(task_id="s", name="n", source="paypal", columns=v),
        "a list of columns",
    ),
    (
        "source_params",
        lambda v: AEPCreateSourceConnectionOperator(task_id="s", name="n", source="paypal", source_params=v),
        "a dict",
    ),
    (
        "schedule_params",
        lambda v: AEPCreateDataflowOperator(
            task_id="f",
            name="n",
            source="paypal",
            source_connection_ids="s",
            target_connection_ids="t",
            schedule_params=v,
        ),
        "a dict",
    ),
    (
        "transformations",
        lambda v: AEPCreateDataflowOperator(
            task_id="f",
            name="n",
            source="paypal",
            source_connection_ids="s",
            target_connection_ids="t",
            transformations=v,
        ),
        "a list of transformations",
    ),
    (
        "field_group_ids",
        lambda v: AEPCreateSchemaOperator(task_id="s", title="t", class_id=PROFILE, field_group_ids=v),
        "a list of field group $id",
    ),
    (
        "fields",
        lambda v: AEPCreateAdhocClassOperator(task_id="c", title="t", fields=v),
        "a dict of source field",
    ),
    ("tags", lambda v: AEPCreateDatasetOperator(task_id="d", name="n", schema_id="s", tags=v), "a dict"),
    (
        "operations",
        lambda v: AEPUpdateDataflowOperator(task_id="u", flow_id=UUID, operations=v),
        "a list of JSON Patch operations",
    ),
    (
        "auth_params",
        lambda v: AEPCreateBaseConnectionOperator(
            task_id="b", name="n", source="paypal", source_conn_id="paypal_default", auth_params=v
        ),
        "a dict of non-secret auth.params",
    ),
]


@pytest.mark.parametrize(("argument", "build", "expected"), BUILDERS, ids=[b[0] for b in BUILDERS])
def test_a_wrong_list_or_dict_argument_fails_at_parse_saying_what_arrived(
    argument: str, build: Callable[[Any], Any], expected: str
) -> None:
    wrong_text = "Product_Id -> _id"
    with pytest.raises(AEPConfigError) as raised:
        build(wrong_text)
    message = str(raised.value)
    assert message.startswith(f"{argument}: must be {expected}"), message
    assert f"got a str that is not JSON: {wrong_text!r}" in message
    listy = argument in ("mappings", "columns", "transformations", "field_group_ids", "operations")
    wrong_kind = {"a": 1} if listy else [1, 2]
    with pytest.raises(AEPConfigError, match=rf"^{re.escape(argument)}: must be .*, got a (dict|list)$"):
        build(wrong_kind)
    with pytest.raises(AEPConfigError, match=rf"^{re.escape(argument)}: .* got a str holding a"):
        build(json.dumps(wrong_kind))
    build("{{ params.anything }}")  # a template: checked once rendered


def test_a_rendered_value_of_the_wrong_kind_fails_before_any_call(aep: RunningEmulator) -> None:
    with DAG("wrong_render", schedule=None):
        task = AEPCreateMappingSetOperator(task_id="m", schema_id="s", mappings="{{ params.mappings }}")
    rendered(task, mappings={"sourceAttribute": "a", "destinationXdmPath": "b"})
    with pytest.raises(
        AEPConfigError, match=r"^mappings: must be a list of mappings, got a str holding a dict: "
    ):
        run(task)
    assert aep.requests() == []


# -- delta_column: one name, one type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "copy", "run_param"),
    [
        ("Update_Time", {"name": "Update_Time"}, {"name": "Update_Time"}),
        (
            {"name": "Update_Time", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"},
            {"name": "Update_Time", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"},
            {"name": "Update_Time"},
        ),
        (
            '{"name": "Update_Time", "timezone": "UTC"}',
            {"name": "Update_Time", "timezone": "UTC"},
            {"name": "Update_Time"},
        ),
    ],
    ids=["name", "dict", "json"],
)
def test_delta_column_is_the_same_argument_on_the_dataflow_and_on_the_run(
    aep: RunningEmulator, given: Any, copy: dict[str, Any], run_param: dict[str, Any]
) -> None:
    ids = TUTORIALS["001"](Tutorial("001"))
    flow = AEPCreateDataflowOperator(
        task_id="flow",
        name="Delta column",
        source="paypal",
        source_connection_ids=ids["source"],
        target_connection_ids=ids["target"],
        mapping_id=ids["mapping"],
        delta_column=given,
        schedule_params={"startTime": 4102444800, "frequency": "once"},
    )
    flow_id, _ = run(flow)
    [made] = [f for f in prod(aep, "flows") if f["id"] == flow_id]
    assert made["flowSpec"]["id"] == sources.CRM_TO_AEP_FLOW_SPEC_ID  # source="paypal": CRMToAEP
    assert next(t for t in made["transformations"] if t["name"] == "Copy")["params"]["deltaColumn"] == copy
    start = AEPTriggerFlowRunOperator(
        task_id="run",
        flow_id=flow_id,
        delta_column=given,
        window_start="2025-01-01T00:00:00Z",
        window_end="2025-01-02T00:00:00Z",
        wait_for_completion=False,
    )
    run_id, _ = run(start)
    [made_run] = [r for r in prod(aep, "runs") if r["id"] == run_id]
    assert made_run["params"]["deltaColumn"] == run_param


@pytest.mark.parametrize("wrong", [{"dateFormat": "YYYY"}, {"name": ""}, 42])
def test_a_delta_column_without_a_name_fails_when_parsed(wrong: Any) -> None:
    for build in (
        lambda: AEPTriggerFlowRunOperator(task_id="r", flow_id="f", delta_column=wrong),
        lambda: AEPCreateDataflowOperator(
            task_id="f",
            name="n",
            source="paypal",
            source_connection_ids="s",
            target_connection_ids="t",
            delta_column=wrong,
        ),
    ):
        with pytest.raises(AEPConfigError, match=r"^delta_column(\.name)?: must be "):
            build()


# -- presets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "spec", "data_format", "provider"),
    [
        ("paypal", sources.PAYPAL_CONNECTION_SPEC_ID, "tabular", None),
        (
            "salesforce_marketing_cloud",
            sources.SALESFORCE_MARKETING_CLOUD_CONNECTION_SPEC_ID,
            "tabular",
            None,
        ),
        (
            "shopify_streaming",
            sources.SHOPIFY_STREAMING_CONNECTION_SPEC_ID,
            "json",
            sources.SHOPIFY_PROVIDER_ID,
        ),
    ],
)
def test_a_source_connection_takes_the_source_by_name(
    aep: RunningEmulator, source: str, spec: str, data_format: str, provider: str | None
) -> None:
    base = None
    if provider is None:
        base = run(
            AEPCreateBaseConnectionOperator(
                task_id="account",
                name=f"{source} account",
                source=source,
                auth_spec_name=None if source == "paypal" else sources.CLIENT_ID_SECRET_AUTH,
                source_conn_id="paypal_default" if source == "paypal" else "sfmc_default",
            )
        )[0]
    source_id, _ = run(
        AEPCreateSourceConnectionOperator(
            task_id="source",
            name=f"{source} source",
            source=source,
            base_connection_id=base,
            table_name=None if provider else "Contacts",
        )
    )
    [made] = [s for s in prod(aep, "sourceConnections") if s["id"] == source_id]
    assert made["connectionSpec"]["id"] == spec
    assert made["data"]["format"] == data_format
    assert made.get("providerId") == provider


def test_the_streaming_dataflow_takes_its_flow_spec_by_source(aep: RunningEmulator) -> None:
    operator = AEPCreateDataflowOperator(
        task_id="f",
        name="n",
        source="shopify_streaming",
        source_connection_ids="s",
        target_connection_ids="t",
    )
    assert operator.flow_spec_id == sources.STREAMING_FLOW_SPEC_ID


def test_salesforce_marketing_cloud_accounts_say_which_authentication(aep: RunningEmulator) -> None:
    with pytest.raises(
        AEPConfigError, match=r"^auth_spec_name: salesforce_marketing_cloud authenticates in 2 ways"
    ):
        AEPCreateBaseConnectionOperator(
            task_id="b", name="n", source="salesforce_marketing_cloud", source_conn_id="sfmc_default"
        )
    account = AEPCreateBaseConnectionOperator(
        task_id="b",
        name="SFMC on AWS",
        source="salesforce_marketing_cloud",
        auth_spec_name=sources.OAUTH2_CLIENT_CREDENTIAL_AUTH,
        source_conn_id="sfmc_aws",
    )
    account_id, _ = run(account)
    [made] = [c for c in prod(aep, "connections") if c["id"] == account_id]
    assert made["auth"]["specName"] == sources.OAUTH2_CLIENT_CREDENTIAL_AUTH
    assert set(made["auth"]["params"]) == {"subdomain", "clientId", "clientSecret"}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: AEPCreateSourceConnectionOperator(task_id="s", name="n", source="stripe"),
            r"^source: must be one of paypal, salesforce_marketing_cloud, shopify_streaming, "
            r"salesforce_marketing_cloud_azure, salesforce_marketing_cloud_aws, got 'stripe'; "
            r"for another source",
        ),
        (
            lambda: AEPCreateBaseConnectionOperator(
                task_id="b", name="n", source="shopify_streaming", source_conn_id="x"
            ),
            r"^source: shopify_streaming has no base connection",
        ),
        (
            lambda: AEPCreateSourceConnectionOperator(
                task_id="s",
                name="n",
                source="paypal",
                connection_spec_id=sources.SHOPIFY_STREAMING_CONNECTION_SPEC_ID,
            ),
            r"^connection_spec_id: 'e77fd9d2-.*' is not the PayPal connection spec id",
        ),
        (
            lambda: AEPCreateDataflowOperator(
                task_id="f",
                name="n",
                source="paypal",
                flow_spec_id=UUID,
                source_connection_ids="s",
                target_connection_ids="t",
            ),
            r"^flow_spec_id: .* is not the PayPal flow spec id",
        ),
        (
            lambda: AEPCreateSourceConnectionOperator(task_id="s", name="n", data_format="tabular"),
            r"^connection_spec_id: give source= \(paypal, ",
        ),
        (
            lambda: AEPCreateDataflowOperator(
                task_id="f", name="n", source_connection_ids="s", target_connection_ids="t"
            ),
            r"^flow_spec_id: give the flow spec id",
        ),
    ],
)
def test_a_wrong_source_fails_when_parsed_naming_the_argument(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(AEPConfigError, match=message):
        build()


def test_the_presets_are_the_ids_the_emulator_serves_from_the_tutorials() -> None:
    from aep_emulator import specs

    assert sources.SOURCES["paypal"].connection_spec_id == specs.PAYPAL_SPEC_ID
    assert sources.SOURCES["salesforce_marketing_cloud"].connection_spec_id == specs.SFMC_SPEC_ID
    assert sources.SOURCES["shopify_streaming"].connection_spec_id == specs.SHOPIFY_STREAMING_SPEC_ID
    assert sources.SOURCES["paypal"].flow_spec_id == specs.CRM_TO_AEP_FLOW_SPEC_ID
    assert sources.SOURCES["shopify_streaming"].flow_spec_id == specs.STREAMING_FLOW_SPEC_ID
    assert sources.DATA_LAKE_CONNECTION_SPEC_ID == specs.DATA_LAKE_SPEC_ID
    assert sources.SOURCE_NAMES[:3] == ("paypal", "salesforce_marketing_cloud", "shopify_streaming")


def test_any_other_source_by_its_spec_id(aep: RunningEmulator) -> None:
    operator = AEPCreateSourceConnectionOperator(
        task_id="s", name="n", connection_spec_id=UUID, data_format="delimited", path="/in/file.csv"
    )
    assert (operator.connection_spec_id, operator.data_format, operator.provider_id) == (
        UUID,
        "delimited",
        None,
    )


# -- flow_id everywhere -------------------------------------------------------------------------


def test_the_dataflow_is_flow_id_on_every_operator_and_dataflow_id_still_works(aep: RunningEmulator) -> None:
    ids = TUTORIALS["001"](Tutorial("001"))
    flow, pushed = run(AEPGetDataflowOperator(task_id="get", flow_id=ids["flow"]))
    assert flow["id"] == pushed["flow_id"] == ids["flow"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = AEPGetDataflowOperator(task_id="old", dataflow_id=ids["flow"])
    assert old.flow_id == ids["flow"]
    assert any(issubclass(w.category, AirflowProviderDeprecationWarning) for w in caught)
    with pytest.raises(AEPConfigError, match=r"^flow_id: give flow_id or its old name dataflow_id, not both"):
        AEPGetDataflowOperator(task_id="both", flow_id="a", dataflow_id="b")
