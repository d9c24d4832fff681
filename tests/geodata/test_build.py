"""The real build: figures checked against independent computations and published values."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Geod

from geodata.build import build_all, read_manifest
from geodata.layerdefs import load_registry
from geodata.names import load_names
from geodata.sources import load_catalogue

GEOD = Geod(ellps="WGS84")
METRIC = "EPSG:32638"


def geodesic_km2(geom: shapely.Geometry) -> float:
    """Area on the ellipsoid (pyproj's Geod), independent of the projected CRS the pipeline uses."""
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def read(data_dir: Path, layer: str, table: str | None = None) -> gpd.GeoDataFrame:
    return gpd.read_file(data_dir / "layers" / f"{layer}.gpkg", layer=table or layer)


def test_manifest_lists_every_layer_with_licence(built_data_dir: Path) -> None:
    manifest = read_manifest(built_data_dir)
    for layer_id, meta in manifest["layers"].items():
        assert meta["feature_count"] == len(read(built_data_dir, layer_id))
        assert meta["licence"]["name"] and meta["attribution"]
        assert len(meta["version"]) == 16
        west, south, east, north = meta["bbox"]
        if layer_id == "basemap":  # the offline basemap reaches past the region, to frame it at every zoom
            assert 40 < west < 44 < 50 < east < 52 and 36 < south < 38 < 42 < north < 44
        else:
            assert 44 <= west < east < 50 and 38 <= south < north < 42
        uses_geoboundaries = any(s["id"] == "geoboundaries-aze-adm2" for s in meta["sources"])
        assert (meta["licence"]["name"] == "CC BY-SA 3.0") == uses_geoboundaries, layer_id
        assert ("Natural Earth" in meta["attribution"]) == any(s["id"].startswith("ne-") for s in meta["sources"])


def test_gpkg_and_fgb_hold_the_same_features(built_data_dir: Path) -> None:
    for layer_id in read_manifest(built_data_dir)["layers"]:
        gpkg = read(built_data_dir, layer_id).sort_values("id")
        # FlatGeobuf stores features in its spatial index's order
        fgb = gpd.read_file(built_data_dir / "layers" / f"{layer_id}.fgb").sort_values("id")
        assert list(gpkg["id"]) == list(fgb["id"])
        assert all(a.equals_exact(b, 1e-9) for a, b in zip(gpkg.geometry, fgb.geometry, strict=True))


def test_oblast_area_matches_published_and_geodesic(built_data_dir: Path) -> None:
    oblast = read(built_data_dir, "nagorno-karabakh")
    assert len(oblast) == 1 and oblast.geometry.iloc[0].geom_type == "Polygon"
    area = oblast["area_km2"].iloc[0]
    assert area == pytest.approx(geodesic_km2(oblast.geometry.iloc[0]), rel=0.002)
    assert abs(area - 4388) / 4388 < 0.05


# Equal-area figures after removing the former oblast and clipping to the 10m borders, as measured in
# ../shared/geodata/geoboundaries-aze-adm2/PROVENANCE.md.
PROVENANCE_KM2 = {
    "AZ-KAL": 1997,
    "AZ-LAC": 1741,
    "AZ-QBI": 828,
    "AZ-ZAN": 687,
    "AZ-CAB": 861,
    "AZ-FUZ": 1303,
    "AZ-AGM": 1009,
}


def test_district_areas(built_data_dir: Path) -> None:
    districts = read(built_data_dir, "seven-districts").set_index("id")
    assert set(districts.index) == set(PROVENANCE_KM2)
    for code, expected in PROVENANCE_KM2.items():
        row = districts.loc[code]
        assert row.area_km2 == pytest.approx(geodesic_km2(row.geometry), rel=0.002), code
        assert row.area_km2 == pytest.approx(expected, rel=0.02), code
        accounted = row.area_km2 + row.removed_arm_km2 + row.removed_irn_km2 + row.removed_oblast_km2
        assert accounted == pytest.approx(row.raw_area_km2, abs=0.5), code
    assert districts.loc["AZ-CAB", "removed_irn_km2"] == pytest.approx(154, abs=3)
    assert districts.loc["AZ-KAL", "removed_oblast_km2"] == pytest.approx(836, abs=5)
    for column in ("name", "name_az", "name_hy", "name_ru", "iso_3166_2", "published_area_km2"):
        assert districts[column].notna().all(), column


def test_zones_do_not_overlap(built_data_dir: Path) -> None:
    zones = list(read(built_data_dir, "seven-districts").geometry) + list(
        read(built_data_dir, "nagorno-karabakh").geometry
    )
    for a, b in itertools.combinations(zones, 2):
        assert geodesic_km2(a.intersection(b)) < 0.01 if not a.intersection(b).is_empty else True


def _aze_irn_line(source_paths: dict[str, Path]) -> shapely.Geometry:
    lines = gpd.read_file(source_paths["ne-boundary-lines-land"])
    pair = lines[lines.adm0_a3_l.isin(["AZE", "IRN"]) & lines.adm0_a3_r.isin(["AZE", "IRN"])]
    return pair.to_crs(METRIC).geometry.union_all()


def test_no_district_reaches_past_the_iran_line(built_data_dir: Path, source_paths: dict[str, Path]) -> None:
    line = _aze_irn_line(source_paths)
    lines = gpd.read_file(source_paths["ne-boundary-lines-land"])
    aze_left = (lines.adm0_a3_l == "AZE") & (lines.adm0_a3_r == "IRN")
    assert aze_left.any()
    # A thin strip on Iran's side of the line (Natural Earth: AZE is on the left, so Iran is on the right).
    iran_strip = line.buffer(-3_000, single_sided=True)
    for _, row in read(built_data_dir, "seven-districts").to_crs(METRIC).iterrows():
        inside = row.geometry.intersection(iran_strip)
        if inside.is_empty:
            continue
        points = shapely.points(shapely.get_coordinates(inside))
        assert shapely.distance(points, line).max() <= 100, row["id"]


def test_border_segments_and_lengths(built_data_dir: Path, source_paths: dict[str, Path]) -> None:
    border = read(built_data_dir, "iran-border").set_index("id")
    total_km = (
        sum(GEOD.geometry_length(g) for g in gpd.GeoSeries([_aze_irn_line(source_paths)], crs=METRIC).to_crs(4326))
        / 1000
    )
    azerbaijan = border[border["countries"] != "Armenia - Iran"]
    assert azerbaijan["length_km"].sum() == pytest.approx(total_km, rel=0.002)
    assert "Fuzuli District" in border.loc["aras-karabakh", "districts"]
    assert "Jabrayil District" in border.loc["aras-karabakh", "districts"]
    # published: about 138 km along Zangilan, Jabrayil and Fuzuli (RealClearWorld/Jamestown EDM, 2022-10-17)
    assert border.loc["aras-karabakh", "published_length_km"] == 138
    assert border.loc["aras-karabakh", "length_km"] == pytest.approx(138, rel=0.05)
    assert border.loc["nakhchivan", "countries"] == "Azerbaijan (Nakhchivan) - Iran"


def test_armenia_iran_border_against_published_length(built_data_dir: Path, source_paths: dict[str, Path]) -> None:
    """Wikipedia, "Armenia-Iran border": 44 km (RealClearWorld, 2022: 40 km). The 1:10m line smooths the Aras."""
    armenia = read(built_data_dir, "iran-border").set_index("id").loc["armenia"]
    assert armenia["countries"] == "Armenia - Iran" and {armenia.left_country, armenia.right_country} == {"ARM", "IRN"}
    lines = gpd.read_file(source_paths["ne-boundary-lines-land"])
    pair = lines[lines.adm0_a3_l.isin(["ARM", "IRN"]) & lines.adm0_a3_r.isin(["ARM", "IRN"])]
    independent_km = sum(GEOD.geometry_length(g) for g in pair.geometry) / 1000
    assert armenia["length_km"] == pytest.approx(independent_km, rel=0.002)
    assert armenia["published_length_km"] == 44.0
    # measured 35.4 km: 20% under the published figure, the generalisation of a 1:10m river line
    assert 0.75 * 44 < armenia["length_km"] < 44
    meghri = gpd.GeoSeries([shapely.Point(46.24308, 38.90123)], crs=4326).to_crs(METRIC).iloc[0]
    line = gpd.GeoSeries([armenia.geometry], crs=4326).to_crs(METRIC).iloc[0]
    assert line.distance(meghri) < 5_000  # Meghri lies on the Aras


def _iran_lines(source_paths: dict[str, Path], neighbour: str) -> shapely.Geometry:
    lines = gpd.read_file(source_paths["ne-boundary-lines-land"])
    pair = lines[lines.adm0_a3_l.isin([neighbour, "IRN"]) & lines.adm0_a3_r.isin([neighbour, "IRN"])]
    return pair.to_crs(METRIC).geometry.union_all()


def test_border_bands_widths_sides_and_nesting(built_data_dir: Path, source_paths: dict[str, Path]) -> None:
    bands = read(built_data_dir, "iran-border-zone").to_crs(METRIC)
    assert set(bands["side"]) == {"AZ", "AM", "IR"}
    lines = {"AZ": _iran_lines(source_paths, "AZE"), "AM": _iran_lines(source_paths, "ARM")}
    lines["IR"] = shapely.union_all([lines["AZ"], lines["AM"]])
    horadiz = gpd.GeoSeries([shapely.Point(47.335, 39.450)], crs=4326).to_crs(METRIC).iloc[0]  # ~4 km from the Aras
    meghri = gpd.GeoSeries([shapely.Point(46.24308, 38.90123)], crs=4326).to_crs(METRIC).iloc[0]
    for _, band in bands.iterrows():
        line = lines[band.side]
        # area ~ width x length, less what is clipped off at the ends, at third countries and the sea
        assert band.geometry.area / 1e6 == pytest.approx(band.width_km * line.length / 1000, rel=0.12), band["id"]
        vertices = shapely.points(shapely.get_coordinates(band.geometry))
        assert shapely.distance(vertices, line).max() <= band.width_km * 1000 * 1.01
        assert band.geometry.contains(horadiz) == (band.side == "AZ"), band["id"]
        assert band.geometry.contains(meghri) == (band.side == "AM"), band["id"]
        assert band["country"] in band["name"] or band["side"] == "IR"
    for side in ("AZ", "AM", "IR"):
        ordered = bands[bands.side == side].sort_values("width_km").geometry.to_list()
        for narrow, wide in itertools.pairwise(ordered):
            assert narrow.difference(wide).area < 10_000  # m2


def test_ceasefire_layers_carry_validity(built_data_dir: Path) -> None:
    area = read(built_data_dir, "ceasefire-1994-area")
    line = read(built_data_dir, "line-of-contact-1994")
    for layer in (area, line):
        assert (layer["valid_from"] == "1994-05-12").all() and (layer["valid_to"] == "2020-11-10").all()
    assert area["area_km2"].iloc[0] == pytest.approx(11927, rel=0.01)
    assert geodesic_km2(area.geometry.iloc[0]) == pytest.approx(11927, rel=0.01)


def _place(places: gpd.GeoDataFrame, name: str) -> gpd.GeoSeries:
    match = places[places["name"] == name]
    assert len(match) >= 1, name
    return match.sort_values("population", ascending=False).iloc[0]


def test_places_have_alternate_names_and_zones(built_data_dir: Path) -> None:
    places = read(built_data_dir, "places")
    assert set(places["country"]) == {"AZ", "AM", "IR"}
    assert "Khankendi" in _place(places, "Stepanakert / Khankendi").alternate_names
    assert "Shushi" in _place(places, "Shusha / Shushi").alternate_names
    assert "Laçın" in _place(places, "Lachin / Berdzor").alternate_names
    assert _place(places, "Shusha / Shushi").nagorno_karabakh == "nkao"
    horadiz = _place(places, "Horadiz")
    assert horadiz.seven_districts == "AZ-FUZ"
    assert "AZ-5km" in horadiz.iran_border_zone.split("; ")
    assert _place(places, "Lachin / Berdzor").seven_districts == "AZ-LAC"
    goris = _place(places, "Goris")
    assert goris.zones == "admin-units:ARM" and goris.country == "AM"  # in no conflict zone
    assert places["admin_units"].notna().all() and not places["admin_units"].str.contains(";").any()
    assert "b38" in _place(places, "Fuzuli / Varanda").zones  # Fuzuli town was within the 1994-2020 held area


def test_places_carry_the_display_names_of_the_policy(built_data_dir: Path) -> None:
    places = read(built_data_dir, "places").set_index("id")
    for entry in load_names():
        row = places.loc[str(entry.get("geonameid", entry.get("id")))]
        assert row["name"] == entry["display"], entry["display"]
        assert (row["name_en"], row["other_name"]) == (entry["name_en"], entry["other_name"])
        for column in ("name_az", "name_hy", "name_ru"):
            value = row[column] if isinstance(row[column], str) else None  # missing reads back as None or NaN
            assert value == entry.get(column), (entry["display"], column)
    martakert = places.loc["martakert"]
    assert martakert["nagorno_karabakh"] == "nkao"  # GeoNames lacks it; the table places it in the oblast
    assert places.index.is_unique


def test_display_variants_keep_shared_borders(built_data_dir: Path) -> None:
    manifest = read_manifest(built_data_dir)["layers"]
    full_vertices = None
    for zoom in manifest["seven-districts"]["variants"]:
        districts = read(built_data_dir, "seven-districts", f"seven-districts_z{zoom}")
        oblast = read(built_data_dir, "nagorno-karabakh", f"nagorno-karabakh_z{zoom}")
        coverage = list(districts.to_crs(METRIC).geometry) + list(oblast.to_crs(METRIC).geometry)
        assert shapely.coverage_is_valid(coverage), zoom
        assert all(g.is_valid for g in coverage)
        full_vertices = (
            full_vertices or shapely.get_num_coordinates(read(built_data_dir, "seven-districts").geometry).sum()
        )
        assert shapely.get_num_coordinates(districts.geometry).sum() < full_vertices


def test_same_inputs_give_identical_files(built_data_dir: Path, source_paths: dict[str, Path], tmp_path: Path) -> None:
    catalogue = load_catalogue()
    again = build_all(load_registry(catalogue), catalogue, source_paths, tmp_path)
    first = read_manifest(built_data_dir)["layers"]
    for layer_id, meta in again["layers"].items():
        assert meta["version"] == first[layer_id]["version"]
        assert meta["content_sha256"] == first[layer_id]["content_sha256"]
        for name in meta["files"].values():
            assert (tmp_path / "layers" / name).read_bytes() == (built_data_dir / "layers" / name).read_bytes(), name
    raster = again["rasters"]["population"]["path"]
    assert (tmp_path / "layers" / raster).read_bytes() == (built_data_dir / "layers" / raster).read_bytes()


def test_gpkg_carries_licence_and_variants(built_data_dir: Path) -> None:
    with sqlite3.connect(built_data_dir / "layers" / "seven-districts.gpkg") as db:
        (description,) = db.execute(
            "SELECT description FROM gpkg_contents WHERE table_name = 'seven-districts'"
        ).fetchone()
    assert "CC BY-SA 3.0" in description and "geoBoundaries" in description
    layers = [name for name, _ in pyogrio.list_layers(built_data_dir / "layers" / "seven-districts.gpkg")]
    assert layers[0] == "seven-districts" and "seven-districts_z8" in layers


def test_population_raster_is_dated_and_cited(built_data_dir: Path) -> None:
    meta = read_manifest(built_data_dir)["rasters"]["population"]
    with rasterio.open(built_data_dir / "layers" / meta["path"]) as raster:
        total = float(raster.read(1, masked=True).sum())
        assert raster.crs.to_epsg() == 4326
        assert raster.tags()["CZMAP_AS_OF"] == "2020-09-27"
        for event in ("1993", "November 2020", "September 2023"):
            assert event in raster.tags()["CZMAP_CAVEAT"]
    typed = sum(f["population"] for f in meta["figures"])
    assert total == pytest.approx(typed - meta["population_outside"], rel=1e-4)
    assert all(f["source_title"] or not f["verified"] for f in meta["figures"])
    assert meta["licence"]["name"] == "CC BY 4.0" and "census" in meta["attribution"]
