"""Writes to the events collection through create_app (SQLite and PostGIS): auth, If-Match, retraction, history,
validation and size limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

ITEMS = "/collections/events/items"
Feature = Callable[..., dict[str, Any]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def created(events_client: TestClient, api_keys: dict[str, str], event_feature: Feature) -> dict[str, Any]:
    """An event written by the editor; its response body."""
    response = events_client.post(ITEMS, json=event_feature(1), headers=bearer(api_keys["editor"]))
    assert response.status_code == 201, response.text
    return response.json()


# -- authentication and roles --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer czm_000000000000_" + "x" * 43}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
def test_create_without_a_valid_key_is_401(events_client, event_feature, headers, status) -> None:
    response = events_client.post(ITEMS, json=event_feature(1), headers=headers)
    assert response.status_code == status
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "Unauthorized"
    assert events_client.get(f"{ITEMS}/api-test-0001").status_code == 404


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_create_with_a_key_is_201_with_location(events_client, api_keys, event_feature, role) -> None:
    response = events_client.post(ITEMS, json=event_feature(1), headers=bearer(api_keys[role]))
    assert response.status_code == 201
    location = response.headers["location"]
    assert location.endswith(f"{ITEMS}/api-test-0001")
    stored = events_client.get(location).json()
    assert stored["properties"]["created_by"] == f"{role} of the tests (key {api_keys[role].split('_')[1]})"
    assert stored["properties"]["zones"], "a point in Stepanakert lies in the Nagorno-Karabakh zone"
    assert response.headers["etag"] == '"1"'


def test_create_without_id_gets_one(events_client, api_keys, event_feature) -> None:
    feature = event_feature(1)
    del feature["id"]
    response = events_client.post(ITEMS, json=feature, headers=bearer(api_keys["editor"]))
    assert response.status_code == 201
    assert events_client.get(response.headers["location"]).json()["properties"]["notes"] == "test event 1"


def test_duplicate_id_is_409(events_client, api_keys, event_feature, created) -> None:
    response = events_client.post(ITEMS, json=event_feature(1), headers=bearer(api_keys["editor"]))
    assert response.status_code == 409


def test_retraction_needs_admin_and_keeps_the_record(events_client, api_keys, created) -> None:
    url = f"{ITEMS}/{created['id']}"
    assert events_client.delete(url).status_code == 401
    forbidden = events_client.delete(url, headers=bearer(api_keys["editor"]))
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "Forbidden"
    retracted = events_client.delete(url, params={"reason": "duplicate report"}, headers=bearer(api_keys["admin"]))
    assert retracted.status_code == 200
    stored = events_client.get(url).json()
    assert stored["properties"]["verification"] == "retracted"
    assert "duplicate report" in stored["properties"]["notes"]
    assert created["id"] in {f["id"] for f in events_client.get(ITEMS, params={"limit": 1000}).json()["features"]}
    again = events_client.delete(url, headers=bearer(api_keys["admin"]))
    assert again.status_code == 409


def test_editor_cannot_change_a_retracted_event(events_client, api_keys, created) -> None:
    url = f"{ITEMS}/{created['id']}"
    assert events_client.delete(url, headers=bearer(api_keys["admin"])).status_code == 200
    patch = {"properties": {"notes": "edited after retraction"}}
    assert events_client.patch(url, json=patch, headers=bearer(api_keys["editor"])).status_code == 403
    assert events_client.patch(url, json=patch, headers=bearer(api_keys["admin"])).status_code == 200


def test_revoked_key_is_401(events_client, api_keys, event_feature) -> None:
    from datetime import UTC, datetime

    store = events_client.app.state.events.store
    assert store.revoke_key(api_keys["editor"].split("_")[1], datetime.now(UTC))
    response = events_client.post(ITEMS, json=event_feature(2), headers=bearer(api_keys["editor"]))
    assert response.status_code == 401


# -- replace, update, If-Match, history ----------------------------------------------------------------------------
def test_read_change_write_back_with_if_match(events_client, api_keys, created) -> None:
    url = f"{ITEMS}/{created['id']}"
    read = events_client.get(url, headers={"Accept-Encoding": "identity"})
    body = read.json()
    body["properties"]["verification"] = "corroborated"
    written = events_client.put(
        url, json=body, headers={**bearer(api_keys["editor"]), "If-Match": read.headers["etag"]}
    )
    assert written.status_code == 200, written.text
    assert written.headers["etag"] == '"2"'
    stored = events_client.get(url).json()["properties"]
    assert stored["verification"] == "corroborated" and stored["revision"] == 2
    assert stored["created_by"] == created["properties"]["created_by"]


def test_stale_if_match_is_412_and_changes_nothing(events_client, api_keys, created) -> None:
    url = f"{ITEMS}/{created['id']}"
    editor = bearer(api_keys["editor"])
    assert events_client.patch(url, json={"properties": {"notes": "first"}}, headers=editor).status_code == 200
    stale = events_client.patch(url, json={"properties": {"notes": "second"}}, headers={**editor, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "PreconditionFailed"
    assert events_client.get(url).json()["properties"]["notes"] == "first"
    current = events_client.patch(url, json={"properties": {"notes": "third"}}, headers={**editor, "If-Match": '"2"'})
    assert current.status_code == 200


def test_if_match_with_an_unknown_tag_is_412(events_client, api_keys, created) -> None:
    headers = {**bearer(api_keys["editor"]), "If-Match": '"d41d8cd98f00b204"'}
    response = events_client.patch(f"{ITEMS}/{created['id']}", json={"properties": {"notes": "x"}}, headers=headers)
    assert response.status_code == 412


def test_patch_moves_the_event_and_recomputes_zones(events_client, api_keys, created) -> None:
    url = f"{ITEMS}/{created['id']}"
    patch = {"geometry": {"type": "Point", "coordinates": [44.51, 40.18]}}  # Yerevan: outside every war zone
    response = events_client.patch(url, json=patch, headers=bearer(api_keys["editor"]))
    assert response.status_code == 200
    stored = events_client.get(url).json()
    assert stored["geometry"]["coordinates"] == [44.51, 40.18]
    assert stored["properties"]["zones"] == ["admin-units:ARM"]  # only the unit that tiles the rest of the map
    assert stored["properties"]["notes"] == "test event 1"


def test_history_shows_who_changed_what(events_client, api_keys, created) -> None:
    url = f"{ITEMS}/{created['id']}"
    events_client.patch(url, json={"properties": {"fatalities_best": 3}}, headers=bearer(api_keys["editor"]))
    events_client.delete(url, headers=bearer(api_keys["admin"]))
    history = events_client.get(f"{url}/history").json()
    assert [e["action"] for e in history["entries"]] == ["create", "update", "retract"]
    create, update, retract = history["entries"]
    assert create["before"] is None and create["after"]["notes"] == "test event 1"
    assert update["before"]["fatalities_best"] is None and update["after"]["fatalities_best"] == 3
    assert update["changes"] == [{"field": "fatalities_best", "before": None, "after": 3}]
    assert update["actor"].startswith("editor of the tests") and update["role"] == "editor"
    assert retract["actor"].startswith("admin of the tests")
    assert retract["after"]["verification"] == "retracted" and retract["before"]["verification"] == "reported"
    html = events_client.get(f"{url}/history", params={"f": "html"})
    assert html.status_code == 200 and "fatalities_best" in html.text


def test_history_of_an_unknown_event_is_404(events_client) -> None:
    assert events_client.get(f"{ITEMS}/nothing-here/history").status_code == 404


def test_put_of_an_unknown_event_is_404(events_client, api_keys, event_feature) -> None:
    response = events_client.put(f"{ITEMS}/api-test-0042", json=event_feature(42), headers=bearer(api_keys["editor"]))
    assert response.status_code == 404


def test_put_with_a_different_id_is_422(events_client, api_keys, event_feature, created) -> None:
    response = events_client.put(f"{ITEMS}/{created['id']}", json=event_feature(5), headers=bearer(api_keys["editor"]))
    assert response.status_code == 422
    assert response.json()["parameter"] == "id"


# -- validation, CRS, sizes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda f: f["properties"].update(event_type="Skirmish"), "event_type"),
        (lambda f: f["properties"].update(date_start="2020-13-45"), "date_start"),
        (lambda f: f["properties"].update(date_end="2020-09-01"), "date_end"),
        (lambda f: f["properties"].update(colour="red"), "colour"),
        (lambda f: f["properties"].pop("sources"), "sources"),
        (
            lambda f: f["properties"].update(sources=[{"publisher": "P", "title": "T", "url": "javascript:x"}]),
            "sources.0.url",
        ),
        (lambda f: f["properties"].update(fatalities_best=-1), "fatalities_best"),
        (lambda f: f["properties"].update(lon=1), "properties.lon"),
        (
            lambda f: f.update(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
            "geometry",
        ),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [46.7]}), "geometry.coordinates"),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [246.7, 39.8]}), "geometry.coordinates"),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": ["46.7", 39.8]}), "geometry.coordinates"),
        (lambda f: f.update(type="FeatureCollection"), "type"),
        (lambda f: f.update(crs={"type": "name", "properties": {"name": "EPSG:3857"}}), "crs"),
        (lambda f: f.pop("geometry"), "geometry"),
        (lambda f: f.update(id="bad id with spaces"), "id"),
        # what no editor meant: a point at (0, 0), a height dropped silently, false or "3" taken as numbers
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [0, 0]}), "geometry.coordinates"),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [39.8, 46.7]}), "geometry.coordinates"),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [46.7, 39.8, 900]}), "geometry.coordinates"),
        (lambda f: f["properties"].update(fatalities_best=False), "properties.fatalities_best"),
        (lambda f: f["properties"].update(fatalities_low="3"), "properties.fatalities_low"),
        (lambda f: f["properties"].update(date_precision=1.5), "properties.date_precision"),
    ],
)
def test_invalid_feature_is_422_naming_the_field(events_client, api_keys, event_feature, change, field) -> None:
    feature = event_feature(1)
    change(feature)
    response = events_client.post(ITEMS, json=feature, headers=bearer(api_keys["editor"]))
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in [p["field"] for p in body["problems"]]
    assert events_client.get(f"{ITEMS}/api-test-0001").status_code == 404


def test_server_fields_sent_back_are_ignored_but_unknown_patch_fields_are_not(events_client, api_keys, created):
    url = f"{ITEMS}/{created['id']}"
    body = {**created, "properties": {**created["properties"], "revision": 99, "created_by": "someone else"}}
    assert events_client.put(url, json=body, headers=bearer(api_keys["editor"])).status_code == 200
    stored = events_client.get(url).json()["properties"]
    assert stored["revision"] == 2 and stored["created_by"] == created["properties"]["created_by"]
    patch = events_client.patch(url, json={"properties": {"revision": 7}}, headers=bearer(api_keys["editor"]))
    assert patch.status_code == 422 and patch.json()["parameter"] == "revision"


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"type": "Feature", "properties": {"a": [1, 2}'])
def test_malformed_json_is_400(events_client, api_keys, body: bytes) -> None:
    headers = {**bearer(api_keys["editor"]), "Content-Type": "application/geo+json"}
    response = events_client.post(ITEMS, content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["parameter"] == "body"


def test_body_in_epsg_4326_is_latitude_first(events_client, api_keys, event_feature) -> None:
    feature = event_feature(1, lon=39.82, lat=46.75)  # axis order of EPSG:4326: latitude, longitude
    headers = {**bearer(api_keys["editor"]), "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"}
    assert events_client.post(ITEMS, json=feature, headers=headers).status_code == 201
    stored = events_client.get(f"{ITEMS}/{feature['id']}").json()
    assert stored["geometry"]["coordinates"] == pytest.approx([46.75, 39.82])


def test_body_in_an_unsupported_crs_is_400(events_client, api_keys, event_feature) -> None:
    headers = {**bearer(api_keys["editor"]), "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/32638>"}
    response = events_client.post(ITEMS, json=event_feature(1), headers=headers)
    assert response.status_code == 400
    assert response.json()["parameter"] == "Content-Crs"


def test_absurd_body_is_413(events_client, api_keys, event_feature) -> None:
    feature = event_feature(1, notes="x" * 2_000_000)
    response = events_client.post(ITEMS, json=feature, headers=bearer(api_keys["editor"]))
    assert response.status_code == 413
    assert response.json()["code"] == "PayloadTooLarge"


def test_absurd_chunked_body_is_413(events_client, api_keys) -> None:
    def chunks():
        yield b'{"type": "Feature", "properties": {"notes": "'
        for _ in range(300):
            yield b"y" * 10_000
        yield b'"}}'

    response = events_client.post(ITEMS, content=chunks(), headers=bearer(api_keys["editor"]))
    assert response.status_code == 413


def test_too_long_notes_under_the_size_limit_are_422(events_client, api_keys, event_feature) -> None:
    response = events_client.post(ITEMS, json=event_feature(1, notes="x" * 30_000), headers=bearer(api_keys["editor"]))
    assert response.status_code == 422 and response.json()["parameter"] == "notes"


def test_unknown_query_parameter_on_a_write_is_400(events_client, api_keys, event_feature) -> None:
    response = events_client.post(
        ITEMS, params={"dry_run": "1"}, json=event_feature(1), headers=bearer(api_keys["editor"])
    )
    assert response.status_code == 400 and response.json()["parameter"] == "dry_run"


def test_writes_to_a_zone_layer_are_not_allowed(events_client, api_keys, event_feature) -> None:
    response = events_client.post("/collections/places/items", json=event_feature(1), headers=bearer(api_keys["admin"]))
    assert response.status_code == 405


def test_sources_reach_gis_clients_as_flat_text(events_client, created) -> None:
    """QGIS drops a list of objects; ``sources_text`` carries the same citations as one text field."""
    sources = created["properties"]["sources"]
    page = events_client.get(ITEMS, params={"id": created["id"]}).json()
    one = events_client.get(f"{ITEMS}/{created['id']}").json()
    for properties in (created["properties"], page["features"][0]["properties"], one["properties"]):
        text = properties["sources_text"]
        assert text.count(" | ") == len(sources) - 1
        assert all(s["publisher"] in text and s["title"] in text for s in sources)


def test_a_point_outside_the_region_is_refused_with_the_setting_named(events_client, api_keys, event_feature) -> None:
    feature = event_feature(1)
    feature["geometry"]["coordinates"] = [0.0, 0.0]
    response = events_client.post(ITEMS, json=feature, headers=bearer(api_keys["editor"]))
    assert response.status_code == 422
    assert "CZMAP_EVENTS__REGION" in response.json()["problems"][0]["message"]


def test_empty_optional_text_is_stored_as_null(events_client, api_keys, event_feature) -> None:
    feature = event_feature(1)
    feature["properties"].update(place_name="", notes="   ", admin1="")
    feature["properties"]["sources"][0]["url"] = ""
    response = events_client.post(ITEMS, json=feature, headers=bearer(api_keys["editor"]))
    assert response.status_code == 201, response.text
    properties = events_client.get(f"{ITEMS}/{response.json()['id']}").json()["properties"]
    assert (properties["place_name"], properties["notes"], properties["admin1"]) == (None, None, None)
    assert properties["sources"][0]["url"] is None


def test_a_missing_key_is_reported_before_an_unknown_parameter(events_client, event_feature) -> None:
    response = events_client.post(ITEMS, params={"bogus": "1"}, json=event_feature(1))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_parameter_of_a_keyed_write_is_400(events_client, api_keys, event_feature) -> None:
    response = events_client.post(
        ITEMS, params={"bogus": "1"}, json=event_feature(1), headers=bearer(api_keys["editor"])
    )
    assert response.status_code == 400
    assert response.json()["parameter"] == "bogus"


def test_the_role_is_checked_before_if_match(events_client, api_keys, created) -> None:
    url = f"{ITEMS}/{created['id']}"
    stale = {**bearer(api_keys["editor"]), "If-Match": '"7", "8"'}
    assert events_client.delete(url, headers=stale).status_code == 403  # editors may not retract
    assert events_client.delete(url, headers={**bearer(api_keys["admin"]), "If-Match": '"7", "8"'}).status_code == 412
    assert events_client.delete(url, headers=bearer(api_keys["admin"])).status_code == 200
    patched = events_client.patch(url, json={"properties": {"notes": "x"}}, headers={**stale, "If-Match": '"1"'})
    assert patched.status_code == 403  # a retracted event: only admins edit it, whatever the revision
