"""API keys, roles and what each role may do.

Keys look like ``czm_<key id>_<secret>`` and are sent as ``Authorization: Bearer <key>``. Only the sha256 of
the whole key is stored; the key itself is shown once, when it is created. Lookup is by the key id and the
hashes are compared in constant time.

Roles (decided for this project, see :data:`PERMISSIONS`):

- ``editor``: create events, replace and update events that are not retracted. An editor cannot set
  ``verification`` to ``retracted`` (only a retraction does) and cannot retract.
- ``admin``: everything an editor may do, plus retract an event and change a retracted event (e.g. restore
  one retracted by mistake). Keys are created and revoked from the command line (``czmap keys``), which needs
  access to the database itself rather than a key.

Reads (items, a single event, its audit trail) need no key: the point of the audit trail is that anyone can
trace who changed what.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from app.events.errors import Forbidden, Unauthenticated, ValidationError
from app.events.store.base import KeyRecord
from app.events.store.interface import EventStore

KEY_PREFIX = "czm"
_KEY_RE = re.compile(rf"^{KEY_PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


class Role(StrEnum):
    """What a key may do."""

    EDITOR = "editor"
    ADMIN = "admin"


class Action(StrEnum):
    """The writes that need a role."""

    CREATE = "create"
    REPLACE = "replace"
    UPDATE = "update"
    RETRACT = "retract"
    EDIT_RETRACTED = "edit-retracted"


PERMISSIONS: MappingProxyType[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.CREATE: frozenset({Role.EDITOR, Role.ADMIN}),
        Action.REPLACE: frozenset({Role.EDITOR, Role.ADMIN}),
        Action.UPDATE: frozenset({Role.EDITOR, Role.ADMIN}),
        Action.RETRACT: frozenset({Role.ADMIN}),
        Action.EDIT_RETRACTED: frozenset({Role.ADMIN}),
    }
)


@dataclass(frozen=True)
class Actor:
    """Who is writing: recorded as ``created_by``/``updated_by`` and in the audit trail."""

    name: str
    role: Role
    key_id: str | None = None


#: Actors for local, trusted operations (command line seed and import).
SEED_ACTOR = Actor("seed", Role.ADMIN)


def import_actor(source: str) -> Actor:
    """The actor recorded for a command-line import of ``source`` (e.g. ``"import:acled"``)."""
    return Actor(f"import:{source}", Role.ADMIN)


def hash_key(key: str) -> str:
    """The stored form of a key: sha256 hex of the whole key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(store: EventStore, role: Role | str, label: str) -> str:
    """Create an API key with ``role`` and return it; it is not stored and cannot be shown again."""
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"role: {role!r} is not a role; allowed: {', '.join(Role)}") from None
    label = label.strip()
    if not 1 <= len(label) <= 100:
        raise ValidationError("label: give 1 to 100 characters naming who holds the key")
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    store.add_key(KeyRecord(key_id, hash_key(key), role.value, label, datetime.now(UTC)))
    return key


def authenticate(store: EventStore, authorization: str | None) -> Actor:
    """The actor holding the key in an ``Authorization: Bearer <key>`` header value, or :class:`Unauthenticated`."""
    if not authorization:
        raise Unauthenticated("missing Authorization header; send 'Authorization: Bearer <API key>'")
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <API key>'")
    match = _KEY_RE.fullmatch(key.strip())
    record = store.get_key(match[1]) if match else None
    stored = record.key_hash if record is not None else _DUMMY_HASH
    if not hmac.compare_digest(stored, hash_key(key.strip())) or record is None or record.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API key")
    return Actor(f"{record.label} (key {record.key_id})", Role(record.role), record.key_id)


def require(actor: Actor, action: Action) -> None:
    """Raise :class:`Forbidden` unless ``actor``'s role may perform ``action``."""
    allowed = PERMISSIONS[action]
    if actor.role not in allowed:
        roles = " or ".join(sorted(allowed))
        raise Forbidden(f"{action.value} needs the {roles} role; this key has {actor.role.value}")
