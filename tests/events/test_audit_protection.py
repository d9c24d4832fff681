"""The audit trail is append-only in the database itself, and a retracted report cannot come back under a new id.

Both backends: the triggers of migration 0005 refuse UPDATE and DELETE on ``audit`` (and TRUNCATE on PostgreSQL),
whoever sends them; on PostgreSQL the ``czmap_writer`` role may only add to it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import pytest

from app.events.errors import Forbidden
from app.events.store.interface import EventStore

REFUSED = (sqlite3.DatabaseError, psycopg.Error)


def _audited(service: Any, editor: Any, event_data: Any) -> None:
    service.create(editor, event_data(1))
    service.update(editor, "test-0001", {"notes": "changed"})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit SET actor = 'someone else'",
        "UPDATE audit SET after = NULL WHERE event_id = 'test-0001'",
        "DELETE FROM audit",
        "DELETE FROM audit WHERE action = 'update'",
    ],
)
def test_the_database_refuses_to_change_the_audit_trail(
    store: EventStore, service: Any, editor: Any, event_data: Any, statement: str
) -> None:
    _audited(service, editor, event_data)
    before = [(e.action, e.actor) for e in store.audit("test-0001")]
    with pytest.raises(REFUSED, match="append-only"), store.transaction() as tx:
        tx.cur.execute(statement)  # type: ignore[attr-defined]
    assert (
        [(e.action, e.actor) for e in store.audit("test-0001")]
        == before
        == [
            ("create", editor.name),
            ("update", editor.name),
        ]
    )


@pytest.mark.parametrize("backend", ["postgis"])  # TRUNCATE and roles are PostgreSQL's
def test_postgis_refuses_truncate_and_the_writer_role_may_only_insert(
    backend: str, store: EventStore, service: Any, editor: Any, event_data: Any
) -> None:
    _audited(service, editor, event_data)
    with pytest.raises(psycopg.Error, match="append-only"), store.transaction() as tx:
        tx.cur.execute("TRUNCATE audit")  # type: ignore[attr-defined]
    with store.transaction() as tx:
        cur = tx.cur  # type: ignore[attr-defined]
        privileges = {
            p: cur.execute("SELECT has_table_privilege('czmap_writer', 'audit', %s)", [p]).fetchone()[0]
            for p in ("INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE")
        }
    assert privileges == {"INSERT": True, "SELECT": True, "UPDATE": False, "DELETE": False, "TRUNCATE": False}
    with pytest.raises(psycopg.errors.InsufficientPrivilege), store.transaction() as tx:  # even with triggers off
        tx.cur.execute("SET LOCAL ROLE czmap_writer")  # type: ignore[attr-defined]
        tx.cur.execute("ALTER TABLE audit DISABLE TRIGGER USER")  # type: ignore[attr-defined]
    assert len(store.audit("test-0001")) == 2


def test_an_editor_cannot_republish_a_retracted_report_under_a_new_id(
    service: Any, editor: Any, admin: Any, event_data: Any
) -> None:
    source = {"publisher": "Example Outlet", "title": "Shelling reported", "url": "https://news.example/a/1"}
    service.create(editor, event_data(1, sources=[source]))
    service.retract(admin, "test-0001", reason="staged photo")
    same_place = event_data(2)  # same day, place, type, claimant and source title; no URL
    with pytest.raises(Forbidden, match="retracted event 'test-0001'"):
        service.create(editor, same_place)
    elsewhere_same_url = event_data(3, lon=46.9, lat=39.9, sources=[{**source, "url": "http://NEWS.example/a/1/"}])
    with pytest.raises(Forbidden, match="only an admin"):
        service.create(editor, elsewhere_same_url)
    assert service.create(admin, event_data(4)).id == "test-0004"  # an admin may


def test_other_reports_of_the_same_place_and_day_are_not_refused(
    service: Any, editor: Any, admin: Any, event_data: Any
) -> None:
    service.create(editor, event_data(1))
    service.retract(admin, "test-0001")
    other_source = [{"publisher": "Another Outlet", "title": "Second shelling", "published": "2020-10-04"}]
    assert service.create(editor, event_data(2, sources=other_source)).id == "test-0002"
    assert service.create(editor, event_data(3, claimed_by="Ministry of Defence of Armenia")).id == "test-0003"
