"""Changing resources that exist: JSON Patch with ``If-Match``, and error messages without secrets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_aep.exceptions import AEPError
from airflow_provider_aep.operators.resources import AEPResourceMismatchError

if TYPE_CHECKING:
    from airflow_provider_aep.hooks.aep import AEPHook


def redact_error(error: Exception, secrets: Sequence[str]) -> None:
    """Replace every secret in an exception's message and AEP error fields by ``***``, in place."""
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        return

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, "***")
            return value
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    error.args = tuple(clean(arg) for arg in error.args)
    for name in ("title", "detail", "body", "url"):
        if hasattr(error, name):
            setattr(error, name, clean(getattr(error, name)))


def patch_with_if_match(
    hook: AEPHook,
    service: str,
    path: str,
    operations: list[dict[str, Any]],
    label: str,
    log: Any,
) -> dict[str, Any]:
    """Apply JSON Patch ``operations`` to the resource at ``path`` with its current etag.

    AEP refuses a PATCH without ``If-Match`` and answers ``412`` when the etag is stale (the
    resource changed since it was read). On a ``412`` the resource is read again and the PATCH
    repeated once; a second ``412`` fails with a clear message. The etag is sent exactly as AEP
    gave it, quotes included.

    :returns: AEP's answer (``{id, etag}``).
    """
    from airflow_provider_aep.exceptions import AEPConflictError
    from airflow_provider_aep.models.responses import etag

    for attempt in (1, 2):
        current = etag(hook.get_item(service, path))
        if not current:
            raise AEPError(f"AEP answered {label} without an etag: cannot send the required If-Match")
        try:
            answer = hook.request("PATCH", service, path, json=operations, headers={"If-Match": current})
        except AEPConflictError as error:
            if attempt == 2:
                raise AEPResourceMismatchError(
                    f"Could not update {label}: it kept changing while being updated "
                    f"(AEP answered {error.status} to two PATCHes with fresh etags); try again later"
                ) from error
            log.warning("The etag of %s was stale (%s); reading it again", label, error.status)
            continue
        return answer if isinstance(answer, dict) else {}
    raise AssertionError("unreachable")  # pragma: no cover
