"""API keys (hashed, shown once, revocable) and what each role may do, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.events.auth import Role, authenticate, create_key, hash_key
from app.events.errors import Forbidden, Unauthenticated, ValidationError


def test_a_created_key_authenticates_with_its_role(store):
    key = create_key(store, "editor", "Newsroom A")
    actor = authenticate(store, f"Bearer {key}")
    assert actor.role is Role.EDITOR
    assert actor.name.startswith("Newsroom A")
    assert authenticate(store, f"bearer   {key}  ").key_id == actor.key_id


def test_only_the_hash_is_stored(store):
    key = create_key(store, "admin", "Lead")
    (record,) = store.list_keys()
    assert record.key_hash == hash_key(key) != key
    assert key.split("_", 2)[2] not in repr(record)


def test_the_sqlite_file_never_holds_the_secret(tmp_path):
    from app.events.store.sqlite import SqliteEventStore

    with SqliteEventStore(tmp_path / "k.sqlite") as store:
        key = create_key(store, "admin", "Lead")
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert key.encode() not in data and key.split("_", 2)[2].encode() not in data
    assert hash_key(key).encode() in data


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Authorization"),
        ("", "missing Authorization"),
        ("Basic dXNlcjpwYXNz", "Bearer"),
        ("Bearer", "Bearer"),
        ("Bearer not-a-key", "unknown or revoked"),
        ("Bearer czm_000000000000_" + "A" * 43, "unknown or revoked"),
    ],
)
def test_bad_credentials_are_unauthenticated(store, header, message):
    create_key(store, "admin", "Lead")
    with pytest.raises(Unauthenticated, match=message):
        authenticate(store, header)


def test_a_tampered_key_is_unauthenticated(store):
    key = create_key(store, "admin", "Lead")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(Unauthenticated):
        authenticate(store, f"Bearer {tampered}")


def test_a_revoked_key_is_unauthenticated(store):
    key = create_key(store, "editor", "Leaver")
    key_id = authenticate(store, f"Bearer {key}").key_id
    assert store.revoke_key(key_id, datetime.now(UTC))
    assert not store.revoke_key(key_id, datetime.now(UTC))
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(store, f"Bearer {key}")


def test_create_key_validates_role_and_label(store):
    with pytest.raises(ValidationError, match="role: 'owner'"):
        create_key(store, "owner", "x")
    with pytest.raises(ValidationError, match="label"):
        create_key(store, "editor", "   ")


def test_editor_may_write_but_not_retract(service, editor, event_data):
    service.create(editor, event_data(1))
    service.update(editor, "test-0001", {"notes": "edited"})
    with pytest.raises(Forbidden, match="retract needs the admin role"):
        service.retract(editor, "test-0001")
    assert service.get("test-0001").verification == "reported"


def test_only_admin_may_change_a_retracted_event(service, admin, editor, event_data):
    service.create(editor, event_data(1))
    service.retract(admin, "test-0001", reason="wrong town")
    with pytest.raises(Forbidden):
        service.update(editor, "test-0001", {"verification": "reported"})
    with pytest.raises(Forbidden):
        service.replace(editor, "test-0001", event_data(1))
    restored = service.update(admin, "test-0001", {"verification": "disputed"})
    assert restored.verification == "disputed"


def test_writes_through_an_authenticated_key_are_attributed(service, event_data):
    key = create_key(service.store, "editor", "Newsroom B")
    actor = service.authenticate(f"Bearer {key}")
    created = service.create(actor, event_data(1))
    assert created.created_by == actor.name
    assert service.audit("test-0001")[0].role == "editor"
