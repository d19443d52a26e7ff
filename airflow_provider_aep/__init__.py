"""Apache Airflow provider for Adobe Experience Platform (AEP) ingestion.

Importing this package is cheap on purpose: the scheduler parses DAG files constantly, so hooks,
models and HTTP clients are imported only by the modules that need them.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

DEFAULT_SCOPES = "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow (the ``apache_airflow_provider`` entry point)."""
    return {
        "package-name": "airflow-provider-aep",
        "name": "Adobe Experience Platform",
        "description": "Adobe Experience Platform (AEP) ingestion: Flow Service, Catalog, "
        "Schema Registry and Data Prep.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "aep",
                "hook-class-name": "airflow_provider_aep.hooks.aep.AEPHook",
                "hook-name": "Adobe Experience Platform",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "login": "Client ID (API key)",
                        "password": "Client secret",
                        "host": "Platform gateway URL",
                    },
                    "placeholders": {
                        "login": "Developer Console project client ID",
                        "password": "Developer Console project client secret",
                        "host": "https://platform.adobe.io",
                    },
                },
                "conn-fields": {
                    "org_id": {
                        "label": "IMS organization ID",
                        "description": "Your IMS org, e.g. 0123456789ABCDEF@AdobeOrg (required).",
                        "schema": {"type": "string", "pattern": "^.+@AdobeOrg$"},
                    },
                    "sandbox": {
                        "label": "Sandbox",
                        "description": "Sandbox name sent as x-sandbox-name (lower case).",
                        "schema": {"type": "string", "default": "prod"},
                    },
                    "scopes": {
                        "label": "Scopes",
                        "description": "Comma-separated OAuth scopes of the Developer Console project.",
                        "schema": {"type": "string", "default": DEFAULT_SCOPES},
                    },
                    "ims_url": {
                        "label": "IMS URL",
                        "description": "Adobe IMS base URL that issues access tokens.",
                        "schema": {
                            "type": "string",
                            "format": "url",
                            "default": "https://ims-na1.adobelogin.com",
                        },
                    },
                },
            }
        ],
        "asset-uris": [
            {
                # aep://<org_id>/<sandbox>/datasets/<dataset_id>: an AEP dataset (airflow_provider_aep.assets)
                "schemes": ["aep"],
                "handler": "airflow_provider_aep.assets.sanitize_uri",
                "factory": "airflow_provider_aep.assets.aep_dataset_asset",
                "to_openlineage_converter": (
                    "airflow_provider_aep.openlineage_facets.convert_asset_to_openlineage"
                ),
            }
        ],
        "extra-links": [
            "airflow_provider_aep.links.AEPDataflowLink",
            "airflow_provider_aep.links.AEPDatasetLink",
            "airflow_provider_aep.links.AEPSchemaLink",
            "airflow_provider_aep.links.AEPFlowRunLink",
        ],
    }
