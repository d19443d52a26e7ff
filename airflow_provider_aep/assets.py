"""AEP datasets as Airflow Assets: the ``aep://`` URI scheme and its factory.

One AEP dataset is one asset, identified by the IMS org, the sandbox and the Catalog dataset id::

    aep://<org_id>/<sandbox>/datasets/<dataset_id>
    aep://0123456789ABCDEF01234567@AdobeOrg/prod/datasets/5c8c3c555033b814b69f947f

Dataset ids are unique within a sandbox, and a sandbox within an org, so the three identify a dataset
stably (its name can change, its id cannot). The URI is normalised: the org id upper case before
``@AdobeOrg`` (IMS org ids are upper-case hexadecimal), the sandbox lower case (AEP sandbox names are),
the word ``datasets`` lower case, no trailing slash, query or fragment. A malformed URI is refused with
a ``ValueError`` that names the part at fault.

:func:`aep_dataset_asset` is the factory to use in DAG files (also registered with Airflow as the
scheme's factory). This module imports nothing heavy at DAG-parse time: Airflow's ``Asset`` is imported
when the factory is called.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import SplitResult, urlsplit

if TYPE_CHECKING:
    from airflow.sdk import Asset

SCHEME = "aep"
#: The URI form, for error messages and documentation.
URI_FORM = "aep://<org_id>/<sandbox>/datasets/<dataset_id>"

_ORG_SUFFIX = "@adobeorg"
_ORG_LOCAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# the rule of the ``aep`` connection's sandbox (hooks/connection_extras.py), after lower-casing
_SANDBOX = re.compile(r"^[a-z0-9][a-z0-9-]{0,255}$")
_DATASET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")


class AEPDatasetRef(NamedTuple):
    """One AEP dataset, as the ``aep://`` URI identifies it (all parts normalised).

    (A ``NamedTuple``, not a dataclass: this module is imported when a DAG file is parsed.)

    :ivar org_id: the IMS organization id, ``<ID>@AdobeOrg``.
    :ivar sandbox: the sandbox name, lower case.
    :ivar dataset_id: the Catalog dataset id.
    """

    org_id: str
    sandbox: str
    dataset_id: str

    @classmethod
    def of(cls, dataset_id: str, sandbox: str, org_id: str) -> AEPDatasetRef:
        """Check and normalise each part; a bad one raises ``ValueError`` naming it."""
        return cls(normal_org_id(org_id), normal_sandbox(sandbox), normal_dataset_id(dataset_id))

    @classmethod
    def parse(cls, uri: str) -> AEPDatasetRef:
        """The dataset an ``aep://`` URI names; ``ValueError`` naming the part when it is malformed."""
        return cls.from_parts(urlsplit(uri.strip()))

    @classmethod
    def from_parts(cls, parts: SplitResult) -> AEPDatasetRef:
        if parts.scheme.lower() != SCHEME:
            raise _bad(parts, "scheme", f"must be {SCHEME!r}, got {parts.scheme!r}")
        if parts.query:
            raise _bad(parts, "query", "an AEP dataset URI has no query string")
        if not parts.netloc:
            raise _bad(parts, "org_id", "missing: the URI must start with aep://<org_id>@AdobeOrg/")
        segments = parts.path.rstrip("/").split("/")[1:]
        if len(segments) != 3 or segments[1].lower() != "datasets":
            raise _bad(
                parts,
                "path",
                f"must be /<sandbox>/datasets/<dataset_id>, got {parts.path or '(empty)'!r}",
            )
        sandbox, _, dataset_id = segments
        try:
            return cls.of(dataset_id, sandbox, parts.netloc)
        except ValueError as exc:
            raise ValueError(f"AEP dataset asset URI {_show(parts)!r}: {exc} (form: {URI_FORM})") from None

    @property
    def namespace(self) -> str:
        """``aep://<org_id>/<sandbox>``: the OpenLineage namespace of the sandbox's datasets."""
        return f"{SCHEME}://{self.org_id}/{self.sandbox}"

    @property
    def name(self) -> str:
        """``datasets/<dataset_id>``: the OpenLineage dataset name (``namespace/name`` is the URI)."""
        return f"datasets/{self.dataset_id}"

    @property
    def uri(self) -> str:
        """The normalised asset URI."""
        return f"{self.namespace}/{self.name}"


def normal_org_id(org_id: object) -> str:
    """``<ID>@AdobeOrg`` with the id upper case; ``ValueError`` naming ``org_id`` otherwise."""
    text = org_id.strip() if isinstance(org_id, str) else ""
    local, at, suffix = text.rpartition("@")
    if not at or suffix.lower() != _ORG_SUFFIX[1:] or not _ORG_LOCAL.match(local):
        raise ValueError(
            f"org_id {org_id!r} is not an IMS organization id: letters, digits, '.', '_' or '-' "
            "followed by @AdobeOrg"
        )
    return f"{local.upper()}@AdobeOrg"


def normal_sandbox(sandbox: object) -> str:
    """The sandbox name lower case; ``ValueError`` naming ``sandbox`` when it is not a sandbox name."""
    name = sandbox.strip().lower() if isinstance(sandbox, str) else ""
    if not _SANDBOX.match(name):
        raise ValueError(
            f"sandbox {sandbox!r} is not a sandbox name: letters, digits and hyphens, at most 256 characters"
        )
    return name


def normal_dataset_id(dataset_id: object) -> str:
    """The dataset id as given (stripped); ``ValueError`` naming ``dataset_id`` when malformed."""
    text = dataset_id.strip() if isinstance(dataset_id, str) else ""
    if not _DATASET_ID.match(text):
        raise ValueError(
            f"dataset_id {dataset_id!r} is not a Catalog dataset id: letters, digits, '.', '_' or '-', no '/'"
        )
    return text


def aep_dataset_uri(dataset_id: str, *, sandbox: str, org_id: str) -> str:
    """The normalised ``aep://`` URI of a dataset (see :class:`AEPDatasetRef`)."""
    return AEPDatasetRef.of(dataset_id, sandbox, org_id).uri


def aep_dataset_asset(
    dataset_id: str, *, sandbox: str, org_id: str, extra: dict[str, Any] | None = None
) -> Asset:
    """The Airflow Asset of an AEP dataset: declare it in ``outlets`` or ``schedule``.

    Its name and URI are both the normalised ``aep://<org_id>/<sandbox>/datasets/<dataset_id>``, so
    every DAG that calls this with the same dataset gets the same asset. Cheap at DAG-parse time: it
    reads no connection and makes no call.

    :param dataset_id: the Catalog dataset id (not its name: names can change and repeat).
    :param sandbox: the sandbox that holds it, e.g. ``prod``.
    :param org_id: the IMS organization id, ``...@AdobeOrg`` (the ``aep`` connection's ``org_id``).
    :param extra: the asset's own ``extra`` (not an event's).
    :raises ValueError: naming the part that is malformed.
    """
    from airflow.sdk import Asset

    uri = aep_dataset_uri(dataset_id, sandbox=sandbox, org_id=org_id)
    return Asset(name=uri, uri=uri, extra=extra)


def sanitize_uri(parts: SplitResult) -> SplitResult:
    """Airflow's URI handler of the ``aep`` scheme (``get_provider_info()["asset-uris"]``).

    Airflow calls it for every ``Asset("aep://...")`` after its own normalisation (lower-case scheme,
    no trailing slash, no fragment); it returns the normalised URI or raises ``ValueError`` naming the
    malformed part.
    """
    ref = AEPDatasetRef.from_parts(parts)
    return SplitResult(SCHEME, ref.org_id, f"/{ref.sandbox}/datasets/{ref.dataset_id}", "", "")


def is_aep_asset(outlet: object) -> bool:
    """Whether ``outlet`` is an Asset of the ``aep`` scheme (by its URI, whatever its class)."""
    uri = getattr(outlet, "uri", None)
    return isinstance(uri, str) and urlsplit(uri).scheme.lower() == SCHEME


def _show(parts: SplitResult) -> str:
    return parts.geturl()


def _bad(parts: SplitResult, part: str, why: str) -> ValueError:
    return ValueError(f"AEP dataset asset URI {_show(parts)!r}: {part} {why} (form: {URI_FORM})")
