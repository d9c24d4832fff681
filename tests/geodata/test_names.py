"""The naming policy's table (geodata/names.toml), checked against sources other than the ones it cites."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geodata.names import NAME_COLUMNS, apply_names, load_names, name_forms

# Each pair as a second page seen with the search tool states it (the table cites a first one); None where
# only one source was found, which the table's entry then names.
SECOND_SOURCES = {
    ("Stepanakert", "Khankendi"): "simple.wikipedia.org/wiki/Stepanakert: 'Stepanakert / Khankendi'",
    ("Shusha", "Shushi"): "enwikipedia.net/wiki/Shusha: 'Shusha / Shushi'",
    ("Martakert", "Aghdara"): None,
    ("Martuni", "Khojavend"): "the-uncensored-wiki.com, Khojavend (town): 'Khojavend ... named Martuni'",
    ("Lachin", "Berdzor"): "JAM News 2020-12-01: 'Lachin came under the control of Azerbaijan, Armenians left Berdzor'",
    ("Kalbajar", "Karvachar"): "Zartonk Media 2020-11-24: 'Artsakh's Karvachar region handed over' (25 Nov)",
    ("Agdam", "Akna"): "de.zxc.wiki, Ağdam (Stadt): 'Ağdam ... oder Akna (armenisch Ակնա)'",
    ("Fuzuli", "Varanda"): "it.wikipedia.org/wiki/Varanda: 'Varanda, in passato Fizuli'",
    ("Jabrayil", "Jrakan"): None,
    ("Zangilan", "Kovsakan"): "w.travel-images.com/az-zangilan.html: 'Zangilan (Zangelan, Kovsakan)'",
    ("Qubadli", "Sanasar"): None,
}


def test_the_table_holds_exactly_the_checked_pairs() -> None:
    pairs = {(e["name_en"], e["other_name"]) for e in load_names()}
    assert pairs == set(SECOND_SOURCES)


@pytest.mark.parametrize("entry", load_names(), ids=lambda e: e["display"])
def test_each_pair_is_cited(entry: dict) -> None:
    assert entry["display"] == f"{entry['name_en']} / {entry['other_name']}"
    for key in ("pair_source_publisher", "pair_source_title", "pair_source_url"):
        assert entry[key].strip(), key
    # the cited title names both halves of the pair (or the one it renames, for the Turkish press list)
    title = entry["pair_source_title"].casefold()
    assert entry["other_name"].casefold() in title or entry["name_en"].casefold() in title
    if SECOND_SOURCES[(entry["name_en"], entry["other_name"])] is None:
        assert "hurriyet" in entry["pair_source_url"] or "memim" in entry["pair_source_url"]
    if "wire_source_date" in entry:
        assert entry["wire_source_date"].startswith("2020-")


def test_name_forms_and_apply_names_on_a_small_frame() -> None:
    entries = [
        {"geonameid": 1, "display": "A / B", "name_en": "A", "other_name": "B", "name_hy": "Ա"},
        {"id": "c", "lon": 46.0, "lat": 40.0, "display": "C / D", "name_en": "C", "other_name": "D"},
    ]
    places = gpd.GeoDataFrame(
        {"id": ["1", "2"], "name": ["Old A", "Other"], "country": ["AZ", "AM"], "population": [5, 6]},
        geometry=[shapely.Point(46.5, 39.5), shapely.Point(46.6, 39.6)],
        crs="EPSG:4326",
    ).assign(alternate_names=["X", ""])
    named = apply_names(places, entries).set_index("id")
    assert named.loc["1", "name"] == "A / B" and named.loc["1", "alternate_names"] == "Old A; X"
    assert named.loc["1", "name_hy"] == "Ա" and named.loc["2", "name"] == "Other"
    assert named.loc["c", "name"] == "C / D" and named.loc["c", "population"] == 0
    assert set(NAME_COLUMNS) <= set(named.columns)
    assert name_forms(entries[0]) == ["A / B", "A", "B", "Ա"]


def test_a_display_name_not_made_of_its_two_names_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "names.toml"
    bad.write_text('[[places]]\ngeonameid = 1\ndisplay = "A - B"\nname_en = "A"\nother_name = "B"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="display"):
        load_names(bad)
