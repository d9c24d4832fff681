"""Controlled vocabularies: ACLED event types, UCDP GED precision codes, verification statuses."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

#: ACLED event types and their sub-event types (ACLED Codebook, 2023).
ACLED_EVENT_TYPES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "Battles": ("Armed clash", "Government regains territory", "Non-state actor overtakes territory"),
        "Explosions/Remote violence": (
            "Chemical weapon",
            "Air/drone strike",
            "Suicide bomb",
            "Shelling/artillery/missile attack",
            "Remote explosive/landmine/IED",
            "Grenade",
        ),
        "Violence against civilians": ("Sexual violence", "Attack", "Abduction/forced disappearance"),
        "Protests": ("Excessive force against protesters", "Protest with intervention", "Peaceful protest"),
        "Riots": ("Violent demonstration", "Mob violence"),
        "Strategic developments": (
            "Agreement",
            "Arrests",
            "Change to group/activity",
            "Disrupted weapons use",
            "Headquarters or base established",
            "Looting/property destruction",
            "Non-violent transfer of territory",
            "Other",
        ),
    }
)

#: UCDP GED ``date_prec``: how precisely the date is known.
DATE_PRECISION: MappingProxyType[int, str] = MappingProxyType(
    {
        1: "exact date",
        2: "within 2-6 days",
        3: "only the week is known",
        4: "only the month is known",
        5: "only the year is known (or longer)",
    }
)

#: UCDP GED ``where_prec``: how precisely the location is known.
LOCATION_PRECISION: MappingProxyType[int, str] = MappingProxyType(
    {
        1: "exact location",
        2: "within ~25 km of a known point",
        3: "only the second-order administrative division (ADM2) is known",
        4: "only the first-order administrative division (ADM1) is known",
        5: "a line (road, river, front) or a vague area",
        6: "only the country is known",
        7: "international waters or airspace",
    }
)


class Verification(StrEnum):
    """How far a report has been checked. ``retracted`` is set only by a retraction."""

    REPORTED = "reported"
    CORROBORATED = "corroborated"
    VERIFIED = "verified"
    DISPUTED = "disputed"
    RETRACTED = "retracted"


def check_event_type(event_type: str, sub_event_type: str) -> None:
    """Raise ``ValueError`` naming the allowed values unless the pair is in the ACLED vocabulary.

    Examples
    --------
    >>> check_event_type("Battles", "Armed clash")
    >>> check_event_type("Battles", "Grenade")
    Traceback (most recent call last):
    ...
    ValueError: sub_event_type 'Grenade' is not a sub-event type of 'Battles'; allowed: Armed clash, ...

    """
    if event_type not in ACLED_EVENT_TYPES:
        known = ", ".join(ACLED_EVENT_TYPES)
        raise ValueError(f"event_type {event_type!r} is not an ACLED event type; allowed: {known}")
    allowed = ACLED_EVENT_TYPES[event_type]
    if sub_event_type not in allowed:
        listed = ", ".join(allowed)
        raise ValueError(
            f"sub_event_type {sub_event_type!r} is not a sub-event type of {event_type!r}; allowed: {listed}"
        )
