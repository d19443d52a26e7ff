"""The standard XDM resources the emulator knows, and the inheritance chain AEP lists in ``meta:extends``.

Sources:

* seed ``004_…`` (the payments tutorial): a schema of the Individual Profile class plus two field groups
  answers ``meta:extends`` with the field groups, then ``xdm/common/auditable`` and ``xdm/data/record``
  (what the profile class itself extends), then the class: the whole chain, not only the ``allOf`` refs;
* ``schema-registry.yaml``, ``createSchemaResponse`` example (``POST /tenant/schemas``): a profile schema
  extends ``auditable``, ``record`` and ``profile``; ``singleClassResponse`` (``GET /{CONTAINER_ID}/
  classes/{CLASS_ID}``): a class built on the record behaviour extends ``xdm/data/record``; the
  ``listUnionsResponse`` example: the XDM ExperienceEvent union extends ``xdm/data/time-series``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

XDM = "https://ns.adobe.com/xdm/"
RECORD = XDM + "data/record"
TIME_SERIES = XDM + "data/time-series"
ADHOC = XDM + "data/adhoc"
PROFILE = XDM + "context/profile"
EXPERIENCE_EVENT = XDM + "context/experienceevent"
AUDITABLE = XDM + "common/auditable"

#: The three data behaviours a class is built on (``/global/behaviors`` in ``schema-registry.yaml``).
BEHAVIOURS = (RECORD, TIME_SERIES, ADHOC)

#: What each standard class or behaviour extends, as AEP lists it in ``meta:extends``.
STANDARD_EXTENDS: dict[str, tuple[str, ...]] = {
    RECORD: (),
    TIME_SERIES: (),
    ADHOC: (),
    PROFILE: (AUDITABLE, RECORD),
    EXPERIENCE_EVENT: (TIME_SERIES,),
}

#: Standard resources a schema may use as its class (the behaviours too: an ad-hoc class is one).
STANDARD_CLASSES = frozenset(STANDARD_EXTENDS)


def is_standard(ref: str) -> bool:
    """Whether ``ref`` is one of Adobe's global XDM resources (always resolvable)."""
    return ref.startswith(XDM)


def is_class(ref: str) -> bool:
    """Whether ``ref`` names a class (standard, behaviour, or a tenant ``/classes/`` resource)."""
    return ref in STANDARD_CLASSES or "/classes/" in ref


def inheritance_chain(refs: Iterable[str], extends_of: Callable[[str], Iterable[str]]) -> list[str]:
    """Every resource a new schema or class extends, in AEP's order: field groups first, the class last,
    each one preceded by what it extends itself; no duplicates.

    :param refs: the ``$ref`` values of the body's ``allOf`` (and its ``meta:class``).
    :param extends_of: what one resource extends (a standard one's chain, or a stored tenant class's
        ``meta:extends``).
    """
    ordered = sorted(dict.fromkeys(refs), key=is_class)  # stable: field groups keep their order
    chain: list[str] = []
    for ref in ordered:
        for item in [*extends_of(ref), ref]:
            if item not in chain:
                chain.append(item)
    return chain


def standard_extends(ref: str) -> tuple[str, ...]:
    """What a standard resource extends (nothing known for field groups and data types)."""
    return STANDARD_EXTENDS.get(ref, ())


def data_behaviour(chain: Iterable[str]) -> str | None:
    """The behaviour (``record``, ``time-series`` or ``adhoc``) a ``meta:extends`` chain is built on."""
    for ref in chain:
        if ref in BEHAVIOURS:
            return ref.rsplit("/", 1)[1]
    return None
