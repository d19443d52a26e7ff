"""Request models of the AEP APIs and lenient readers of their answers.

Nothing is imported here on purpose (pydantic costs tens of milliseconds and the scheduler parses
DAG files constantly): operators import the module they need inside ``execute``::

    from airflow_provider_aep.models.flows import Dataflow
    from airflow_provider_aep.models.validation import validate_request

    flow = validate_request(Dataflow, body, "dataflow")  # AEPConfigError naming field and rule
    hook.post("/flows", json=flow.to_payload())

Modules: ``connections`` (base, source, target connections), ``flows`` (dataflows, flow runs),
``patch`` (JSON Patch), ``schemas`` (tenant schemas, ad-hoc classes), ``catalog`` (datasets),
``mappings`` (mapping sets), ``responses`` (answer readers), ``validation`` (the entry point).
"""
