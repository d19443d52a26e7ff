"""The base of every AEP operator, and the one "ensure resource" mechanism the create operators share.

A create operator declares *what* it makes (a :class:`ResourceKind`: service, collection, how it is
named, which fields make a found resource the same one, which fields JSON Patch may change) and
*how* to build and validate its request body (:meth:`AEPEnsureResourceOperator.build_payload`).
Everything else is done once, here:

1. validate the request (before any HTTP call: a bad argument fails naming the field);
2. look the resource up by name (Flow Service ``property=name==...``, Catalog ``name``, Schema
   Registry ``title``; mapping sets have no name and are looked up by content, see ``data_prep``);
3. if it exists: ``reuse`` it (default, logged), ``fail``, or ``update`` it by JSON Patch;
4. else create it; after a lost answer (no answer, or a 5xx) look it up again: if AEP did create it,
   use it, else repeat the ``POST`` (a bounded number of times). A create that races another task
   (409, or Schema Registry's "title not unique") is resolved the same way;
5. converge: Flow Service, Catalog and Data Prep accept a second resource with the same name, so
   tasks that ensure the same resource at the same moment (overlapping DAG runs, a backfill) can
   each create one. After its create, a task looks the name up again; when several resources match,
   every task picks the same winner by data AEP itself holds (the oldest creation time, then the
   smallest id: :func:`winner`), and the task whose resource lost deletes the one it created itself
   (never another's) and returns the winner. Found resources are chosen by the same rule;
6. return the id (so ``.output`` chains tasks) and push the other useful values to XCom.

A task acts on a look-up only once it is *settled* (:meth:`AEPEnsureResourceOperator.settled_look`):
its winner had already been seen ``race_settle_seconds`` before that look-up was sent. Creates stamped
in the same millisecond show in either order, so a look-up made within that millisecond can miss a
resource that sorts first; a task that trusted it would use a resource its creator is about to delete
as a loser (a dataflow create then fails with ``targetConnection <id> was not found``).

Limits (also in the docs, "Idempotent re-runs and concurrent DAG runs"): convergence needs a look-up
that shows a create once it was answered (the emulator does; Adobe documents no delay), and creation
times that order creates as they show, except for creates at most ``race_settle_seconds`` apart (the
emulator stamps a resource as it stores it, in milliseconds; Adobe documents neither); a resource whose
create answer was lost and that then lost the race cannot be told apart from another task's, so it is
left in place (and never chosen, as it is not the oldest)."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.sdk import BaseOperator

from airflow_provider_aep.exceptions import AEPConfigError, AEPError
from airflow_provider_aep.operators.resources import (
    AEPResourceMismatchError,
    ResourceKind,
    created_ms,
    dotted,
    is_name_taken,
    normal,
    winner,
)
from airflow_provider_aep.operators.updates import patch_with_if_match, redact_error

if TYPE_CHECKING:
    from typing import TypeAlias

    from airflow.sdk import Context, XComArg

    from airflow_provider_aep.hooks.aep import AEPHook

    #: An id argument: a string (templated), or another task's ``.output`` resolved when the task runs.
    IdArg: TypeAlias = str | XComArg

IfExists = Literal["reuse", "fail", "update"]
IF_EXISTS_CHOICES: tuple[str, ...] = ("reuse", "fail", "update")

#: XCom keys pushed next to the return value (docs: "Building blocks", the operators table).
XCOM_CREATED = "created"
XCOM_ETAG = "etag"

#: Most look-ups a task makes for one race to settle (each after a new winner showed up); past them it
#: keeps the resource it created, or uses the last winner it found, and says so in the log.
SETTLE_LOOKS = 20
#: How far AEP's clock may be from this machine's: a resource created longer ago than this plus
#: ``race_settle_seconds`` (by its creation time and our clock) cannot still be in a race, so finding it
#: needs no second look-up.
CLOCK_SKEW_SECONDS = 60.0


class AEPBaseOperator(BaseOperator):
    """Base of every AEP operator: the connection, the sandbox, and a hook made on first use.

    :param aep_conn_id: Airflow connection of type ``aep`` (client id, secret, org, sandbox).
    :param sandbox: sandbox to work in instead of the connection's (templated).
    """

    template_fields: Sequence[str] = ("sandbox",)
    ui_color = "#fa0f00"

    def __init__(
        self, *, aep_conn_id: str = "aep_default", sandbox: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox

    @cached_property
    def hook(self) -> AEPHook:
        """The AEP hook of this task (created after templates are rendered, in ``execute``)."""
        from airflow_provider_aep.hooks.aep import AEPHook

        return AEPHook(aep_conn_id=self.aep_conn_id, sandbox=self.sandbox or None)

    def push(self, context: Context, values: Mapping[str, Any]) -> None:
        """Push each non-``None`` value to XCom under its key (the extra links are built from them)."""
        from airflow_provider_aep.links import remember_link_ids

        ti = context["ti"]
        for key, value in values.items():
            if value is not None:
                ti.xcom_push(key=key, value=value)
        remember_link_ids(self, values)


class AEPEnsureResourceOperator(AEPBaseOperator):
    """Make sure one AEP resource exists, creating it only when no resource of that name does.

    Subclasses set :attr:`kind` and implement :meth:`build_payload`; they may refine the look-up
    (:meth:`find_existing`) and what is pushed to XCom (:meth:`xcom_values`).

    :param if_exists: what to do when the resource already exists: ``reuse`` it (default),
        ``fail``, or ``update`` it with JSON Patch (Flow Service resources only).
    :param create_retries: how many times a create is repeated after a lost answer when a new
        look-up shows AEP did not create it.
    :param create_retry_delay: seconds between two look-ups for a resource whose create answer was lost.
    :param lost_answer_wait: how long to keep looking for such a resource before the create is sent
        again: a create AEP finishes after the client's timeout appears within it instead of being
        made twice.
    :param race_settle_seconds: how much later than a resource AEP may show another that sorts before
        it (created in the same millisecond, or stamped before it showed). A task acts on a look-up
        (uses a resource, deletes the duplicate it made) only when the look-up's winner had been seen
        this long before it was sent: after a create it waits what is left of this time before its
        look-up (nothing more when it sees only its own resource); when it sees a race, or finds a
        resource created in the last minute, it looks again after this time until two look-ups agree.
        The default, 0.002, covers a creation time in milliseconds stamped as AEP stores the resource
        (as the emulator does); raise it if your AEP shows creates later than it stamps them. ``0``
        acts on the first look-up (no guarantee under ties).
    """

    kind: ClassVar[ResourceKind]

    def __init__(
        self,
        *,
        if_exists: IfExists = "reuse",
        create_retries: int = 2,
        create_retry_delay: float = 2.0,
        lost_answer_wait: float = 10.0,
        race_settle_seconds: float = 0.002,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in IF_EXISTS_CHOICES:
            raise AEPConfigError(
                f"if_exists: must be one of {', '.join(IF_EXISTS_CHOICES)}, got {if_exists!r}"
            )
        if if_exists == "update" and not self.kind.patchable:
            raise AEPConfigError(
                f"if_exists: 'update' is not supported for a {self.kind.what} "
                "(AEP has no JSON Patch for it); use 'reuse' or 'fail'"
            )
        if create_retries < 0:
            raise AEPConfigError(f"create_retries: must be >= 0, got {create_retries}")
        self.if_exists = if_exists
        self.create_retries = create_retries
        self.create_retry_delay = create_retry_delay
        if lost_answer_wait < 0:
            raise AEPConfigError(f"lost_answer_wait: must be >= 0, got {lost_answer_wait}")
        self.lost_answer_wait = lost_answer_wait
        if (
            isinstance(race_settle_seconds, bool)
            or not isinstance(race_settle_seconds, int | float)
            or not 0 <= race_settle_seconds <= 60
        ):
            raise AEPConfigError(
                f"race_settle_seconds: must be a number of seconds from 0 to 60, got {race_settle_seconds!r}"
            )
        self.race_settle_seconds = float(race_settle_seconds)

    # -- what subclasses declare ------------------------------------------------------------

    @abstractmethod
    def build_payload(self, context: Context) -> dict[str, Any]:
        """The validated request body (raise ``AEPConfigError`` naming the field when invalid)."""

    def candidates(self, payload: Mapping[str, Any], *, thorough: bool) -> Iterator[dict[str, Any]]:
        """Existing resources that may be the requested one: the collection filtered by name.

        :param thorough: list the whole collection (after a create conflict, in case the server's
            filter did not match a name the way we wrote it).
        """
        name = payload[self.kind.name_field]
        params: dict[str, Any] = {}
        if not thorough:
            from airflow_provider_aep.hooks.paging import property_filter

            params["property"] = property_filter(self.kind.name_field, name)
        yield from self.hook.iter_items(
            self.kind.service, self.kind.collection, params, headers=dict(self.kind.list_headers) or None
        )

    def matches(self, item: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
        """Whether an existing resource is the one requested (by default: the same name)."""
        return bool(item.get(self.kind.name_field) == payload[self.kind.name_field])

    def xcom_values(self, resource_id: str, item: Mapping[str, Any], created: bool) -> dict[str, Any]:
        """Extra XCom values (besides the returned id); ``item`` is the create answer or found object."""
        return {XCOM_CREATED: created, XCOM_ETAG: item.get("etag")}

    # -- the mechanism ----------------------------------------------------------------------

    def execute(self, context: Context) -> str:
        payload = self.build_payload(context)
        label = self.describe(payload)
        try:
            existing = self.find_existing(payload)
            if existing is not None:
                resource_id, item = self.use_existing(existing, payload, label)
                created = False
            else:
                resource_id, item, created = self.create(payload, label)
        except AEPError as error:
            # An error body may quote the request back: never let it carry a credential we sent.
            redact_error(error, self.secret_values())
            raise
        self.push(context, self.xcom_values(resource_id, item, created))
        return resource_id

    def secret_values(self) -> list[str]:
        """Secrets this operator sent (read in ``build_payload``), to redact from errors."""
        return []

    def describe(self, payload: Mapping[str, Any]) -> str:
        return f"{self.kind.what} {payload.get(self.kind.name_field)!r}"

    def find_all(self, payload: Mapping[str, Any], *, thorough: bool = False) -> list[dict[str, Any]]:
        """Every existing resource that is the requested one (more than one after a race)."""
        return [item for item in self.candidates(payload, thorough=thorough) if self.matches(item, payload)]

    def settled_look(
        self,
        payload: Mapping[str, Any],
        *,
        thorough: bool = False,
        seen: dict[str, float] | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Every resource that is the requested one, from a look-up a task may act on; and whether it is
        settled (``False`` only when the race did not settle within :data:`SETTLE_LOOKS` look-ups).

        A look-up is settled when its :func:`winner` had been seen ``race_settle_seconds`` before it was
        sent, or was created long before (:data:`CLOCK_SKEW_SECONDS`): anything that sorts before the
        winner shows within that time, so every later look-up has the same winner (unless a resource
        whose create answer was lost shows). Otherwise the task waits and looks again.

        :param seen: resource id -> ``time.monotonic()`` when it was known to show (a create's answer);
            updated with every resource the look-ups show.
        """
        seen = {} if seen is None else seen
        found: list[dict[str, Any]] = []
        for _ in range(SETTLE_LOOKS):
            sent = time.monotonic()
            found = self.find_all(payload, thorough=thorough)
            if not found or self.kind.unique_names or self.race_settle_seconds == 0:
                return found, True
            chosen = winner(found, self.kind.id_field)
            chosen_id = self.resource_id(chosen)
            since = seen.get(chosen_id)
            answered = time.monotonic()
            for item in found:
                seen.setdefault(self.resource_id(item), answered)
            settled = since is not None and sent - since >= self.race_settle_seconds
            if settled or self.created_long_ago(chosen):
                return found, True
            if len(found) > 1:
                self.log.info(
                    "%d resources are the %s; looking again in %.3f s, until the race settles",
                    len(found),
                    self.describe(payload),
                    self.race_settle_seconds,
                )
            time.sleep(max(0.0, seen[chosen_id] + self.race_settle_seconds - time.monotonic()))
        self.log.warning(
            "The %s kept changing over %d look-ups (other tasks still creating it)",
            self.describe(payload),
            SETTLE_LOOKS,
        )
        return found, False

    def created_long_ago(self, item: Mapping[str, Any]) -> bool:
        """Whether AEP created the resource so long ago (by our clock) that no race can still reorder it."""
        horizon = time.time() - CLOCK_SKEW_SECONDS - self.race_settle_seconds
        return created_ms(item) <= horizon * 1000

    def find_existing(self, payload: Mapping[str, Any], *, thorough: bool = False) -> dict[str, Any] | None:
        """The existing resource that is the requested one (the :func:`winner` of several), or ``None``.

        A resource created in the last minute is looked up again until the look-up settles
        (:meth:`settled_look`): it may be in a race another task's older resource has not shown in yet.
        """
        found, _ = self.settled_look(payload, thorough=thorough)
        if not found:
            return None
        chosen = dict(winner(found, self.kind.id_field))
        if len(found) > 1:
            self.log.warning(
                "%d resources are the %s; using the oldest, %s",
                len(found),
                self.describe(payload),
                self.resource_id(chosen),
            )
        return chosen

    def resource_id(self, item: Mapping[str, Any]) -> str:
        value = item.get(self.kind.id_field)
        if not isinstance(value, str) or not value:
            raise AEPError(f"AEP answered a {self.kind.what} without {self.kind.id_field!r}")
        return value

    def created_id(self, answer: Any) -> str:
        """The id in a create answer (every documented shape)."""
        from airflow_provider_aep.models.responses import created_id

        return created_id(answer)

    def use_existing(
        self, existing: dict[str, Any], payload: Mapping[str, Any], label: str
    ) -> tuple[str, dict[str, Any]]:
        resource_id = self.resource_id(existing)
        self.check_identity(existing, payload, label, resource_id)
        if self.if_exists == "fail":
            raise AEPResourceMismatchError(f"{label} already exists ({resource_id}) and if_exists='fail'")
        if self.if_exists == "update":
            return resource_id, self.update(existing, payload, label, resource_id)
        self.log.info("Reusing the existing %s: %s", label, resource_id)
        return resource_id, existing

    def check_identity(
        self, existing: Mapping[str, Any], payload: Mapping[str, Any], label: str, resource_id: str
    ) -> None:
        for path in self.kind.identity_fields:
            wanted, found = dotted(payload, path), dotted(existing, path)
            if wanted is not None and found is not None and normal(wanted) != normal(found):
                raise AEPResourceMismatchError(
                    f"{label} already exists ({resource_id}) with {path} = {found!r}, not {wanted!r}; "
                    "give this one another name, or delete the existing one"
                )

    def update(
        self, existing: Mapping[str, Any], payload: Mapping[str, Any], label: str, resource_id: str
    ) -> dict[str, Any]:
        """Bring an existing Flow Service resource in line with the request by JSON Patch."""
        operations = [
            {"op": "replace" if name in existing else "add", "path": f"/{name}", "value": payload[name]}
            for name in self.kind.patchable
            if name in payload and existing.get(name) != payload[name]
        ]
        if not operations:
            self.log.info("The existing %s (%s) is already up to date", label, resource_id)
            return dict(existing)
        self.log.info(
            "Updating the existing %s (%s): %s",
            label,
            resource_id,
            ", ".join(op["path"] for op in operations),
        )
        path = f"{self.kind.collection}/{resource_id}"
        return patch_with_if_match(self.hook, self.kind.service, path, operations, label, self.log)

    def create(self, payload: dict[str, Any], label: str) -> tuple[str, dict[str, Any], bool]:
        """POST the resource; after a lost answer or a create race, look it up before any repeat."""
        from airflow_provider_aep.exceptions import (
            AEPBadRequestError,
            AEPConflictError,
            AEPServerError,
            AEPTransportError,
        )

        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self.hook.request(
                    "POST",
                    self.kind.service,
                    self.kind.collection,
                    json=payload,
                    params=dict(self.kind.create_params) or None,
                )
            except (AEPTransportError, AEPServerError) as error:
                # AEP may have created it before the answer got lost, or may still be creating it
                # (a create slower than the client's timeout): never POST again blindly.
                found = self.find_after_lost_answer(payload)
                if found is not None:
                    resource_id = self.resource_id(found)
                    self.log.warning(
                        "The answer to creating %s was lost (%s); AEP did create it: %s",
                        label,
                        error,
                        resource_id,
                    )
                    return resource_id, found, True
                if attempt > self.create_retries:
                    raise
                self.log.warning(
                    "Creating %s got no usable answer (%s) and it did not appear within %.0f s; trying again",
                    label,
                    error,
                    self.lost_answer_wait,
                )
                continue
            except (AEPConflictError, AEPBadRequestError) as error:
                if isinstance(error, AEPBadRequestError) and not is_name_taken(error):
                    raise
                found = self.find_existing(payload, thorough=True)
                if found is None:
                    raise
                self.log.warning(
                    "%s was created meanwhile by someone else (%s)", label, error.code or error.status
                )
                resource_id, item = self.use_existing(found, payload, label)
                return resource_id, item, False
            answered = time.monotonic()
            resource_id = self.created_id(answer)
            self.log.info("Created %s: %s", label, resource_id)
            item = answer if isinstance(answer, dict) else {"id": resource_id}
            return self.converge(resource_id, item, payload, label, answered=answered)

    def find_after_lost_answer(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """Look for a resource whose create answer was lost, every ``create_retry_delay`` seconds for
        up to ``lost_answer_wait`` seconds: AEP may still be storing it after the client gave up."""
        deadline = time.monotonic() + self.lost_answer_wait
        while True:
            found = self.find_existing(payload)
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(max(0.0, min(self.create_retry_delay, deadline - time.monotonic())))

    def converge(
        self,
        resource_id: str,
        item: dict[str, Any],
        payload: Mapping[str, Any],
        label: str,
        *,
        answered: float,
    ) -> tuple[str, dict[str, Any], bool]:
        """After creating ``resource_id``: if other tasks created the same resource meanwhile, agree
        on the :func:`winner`; delete ours if it lost. Returns (id, item, created).

        The decision rests on a settled look-up (:meth:`settled_look`): the first one is sent
        ``race_settle_seconds`` after the create was answered (at ``answered``, ``time.monotonic()``),
        so seeing only ours settles at once; a race is looked at again until two look-ups agree. A
        task that keeps its own resource can never lose it (only its creator deletes a resource), so
        settling matters for convergence; a task that uses another's must settle, or that other's
        creator may see a resource that sorts first later and delete the one it was handed."""
        if self.kind.unique_names:
            return resource_id, item, True
        time.sleep(max(0.0, answered + self.race_settle_seconds - time.monotonic()))
        found, settled = self.settled_look(payload, seen={resource_id: answered})
        if len(found) < 2 or not any(self.resource_id(other) == resource_id for other in found):
            return resource_id, item, True
        chosen = winner(found, self.kind.id_field)
        chosen_id = self.resource_id(chosen)
        if chosen_id == resource_id:
            self.log.info("Another task created the %s at the same moment; ours is the oldest", label)
            return resource_id, item, True
        if not settled:
            # Only we would delete ours, so using it is safe; the race may leave a duplicate.
            self.log.warning(
                "Another task created the %s at the same moment and the race did not settle: "
                "keeping ours, %s (the oldest so far is %s)",
                label,
                resource_id,
                chosen_id,
            )
            return resource_id, item, True
        self.check_identity(chosen, payload, label, chosen_id)
        if self.kind.deletable:
            self.log.warning(
                "Another task created the %s at the same moment: using the oldest, %s, and deleting ours, %s",
                label,
                chosen_id,
                resource_id,
            )
            self.delete_own(resource_id, label)
        else:
            self.log.warning(
                "Another task created the %s at the same moment: using the oldest, %s; ours, %s, "
                "stays unused (AEP documents no DELETE for it)",
                label,
                chosen_id,
                resource_id,
            )
        return chosen_id, dict(chosen), False

    def delete_own(self, resource_id: str, label: str) -> None:
        """Delete a resource this task created and does not use (a 404 means it is gone already)."""
        from urllib.parse import quote

        from airflow_provider_aep.exceptions import AEPNotFoundError

        try:
            self.hook.request(
                "DELETE", self.kind.service, f"{self.kind.collection}/{quote(resource_id, safe='')}"
            )
        except AEPNotFoundError:
            self.log.info("The duplicate %s %s was already gone", label, resource_id)
