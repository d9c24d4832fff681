"""The population raster built from the typed figures, checked against the figures and independent totals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from app.analysis.population import PopulationRaster
from geodata.build import read_manifest
from geodata.population_figures import FIGURES_PATH, figures_frame, load_figures

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
_FROM_UTM = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)
# GeoNames points (cities500): Aghdam 148619, Fuzuli 148106, Khankendi/Stepanakert 146970
AGHDAM, FUZULI, STEPANAKERT = (46.92736, 39.99096), (47.14529, 39.60094), (46.7528, 39.8177)


def _circle(lon: float, lat: float, radius_km: float) -> shapely.Polygon:
    x, y = _TO_UTM.transform(lon, lat)
    disc = shapely.Point(x, y).buffer(radius_km * 1000, quad_segs=64)
    return shapely.transform(disc, lambda xy: np.column_stack(_FROM_UTM.transform(xy[:, 0], xy[:, 1])))


@pytest.fixture(scope="module")
def raster(built_data_dir: Path) -> Iterator[PopulationRaster]:
    meta = read_manifest(built_data_dir)["rasters"]["population"]
    with PopulationRaster(built_data_dir / "layers" / meta["path"]) as opened:
        yield opened


@pytest.fixture(scope="module")
def figures(source_paths: dict[str, Path]) -> gpd.GeoDataFrame:
    return figures_frame(load_figures(), source_paths["geonames-cities500"])


def test_towns_in_ruins_are_empty_on_the_eve_of_the_war(raster: PopulationRaster) -> None:
    """GeoNames put ~27,000 people within 3 km of Aghdam and ~18,000 of Fuzuli; both were empty 1993-2020."""
    aghdam, fuzuli = raster.sums([_circle(*AGHDAM, 3), _circle(*FUZULI, 3)])
    assert aghdam == pytest.approx(0, abs=1) and fuzuli == pytest.approx(0, abs=1)


def test_stepanakert_is_near_its_census_figure(raster: PopulationRaster) -> None:
    """55,151 in 2015 (GeoNames: 2,100 for Khankendi). Within 6 km: the city plus a little of Shushi/Askeran."""
    within_6km = raster.sums([_circle(*STEPANAKERT, 6)])[0]
    assert 0.95 * 55_151 < within_6km < 1.10 * 55_151


def test_units_resum_to_their_typed_figures(
    built_data_dir: Path, raster: PopulationRaster, figures: gpd.GeoDataFrame
) -> None:
    """Kernels stay in their own unit: each unit's raster sum equals the figures typed for places in it."""
    units = gpd.read_file(built_data_dir / "layers" / "admin-units.gpkg", layer="admin-units")
    joined = gpd.sjoin(figures, units[["id", "geometry"]].rename(columns={"id": "unit"}), predicate="within")
    typed = joined.groupby("unit")["population"].sum()
    summed = dict(zip(units["id"], raster.sums(list(units.geometry)), strict=True))
    # Units away from a river border keep their figures to within 3% (cells are given to a unit by their
    # centre, summed by covered fraction: Tartar town loses 2.1% along its unit's edge). The nkao sum is
    # Stepanakert (2015) plus the Askeran, Hadrut, Martakert, Martuni and Shushi regions (2005).
    for unit in ("nkao", "AZ-LAC", "AZ-KAL", "AZ-AGM", "AZE-tartar-district", "AZE-barda-district"):
        assert summed[unit] == pytest.approx(typed.get(unit, 0), rel=0.03, abs=300), unit
    assert typed["nkao"] == 55_151 + 16_979 + 12_005 + 18_963 + 23_157 + 4_324
    assert typed["AZE-barda-district"] == 157_500 and typed["AZE-aghjabadi-district"] == 136_800
    assert summed["AZE-aghjabadi-district"] == pytest.approx(136_800, rel=0.05)
    # Towns on the Aras (Meghri, Agarak, Jolfa) and Kapan (about 1 km from the Azerbaijani border) lose part
    # of their edge cells to the neighbour at 30 arc-seconds; together the neighbours keep the sum.
    near_border = ("ARM", "IRN", "AZ-ZAN", "AZE-julfa-district", "AZE-ordubad-district", "AZE-imishli-district")
    assert sum(summed[u] for u in near_border) == pytest.approx(sum(typed.get(u, 0) for u in near_border), rel=0.01)
    assert summed["ARM"] == pytest.approx(typed["ARM"], rel=0.12)


def test_nagorno_karabakh_figures_against_the_2015_census_total(figures: gpd.GeoDataFrame) -> None:
    """Independent figure: the 2015 census counted 145,053 in the territory the NKR authorities held."""
    checks = {c["name"]: c["population"] for c in load_figures()["checks"]}
    nkr = figures[figures["name"].str.contains("NKR|Stepanakert")]
    assert len(nkr) == 8
    assert nkr["population"].sum() == pytest.approx(checks["Nagorno-Karabakh Republic, 2015 census total"], rel=0.05)


def test_syunik_towns_against_the_province_total(figures: gpd.GeoDataFrame) -> None:
    """Independent figure: Syunik had 141,771 people in 2011; the four towns typed are about half of it."""
    checks = {c["name"]: c["population"] for c in load_figures()["checks"]}
    towns = figures[figures["name"].isin(["Goris", "Kapan", "Meghri", "Agarak"])]
    assert towns["population"].sum() == 72_790
    assert 0.4 < towns["population"].sum() / checks["Syunik province, 2011 census total"] < 0.6


def test_every_figure_is_cited_dated_and_flagged(figures: gpd.GeoDataFrame) -> None:
    raw = load_figures()
    assert raw["meta"]["as_of"] == "2020-09-27"
    for entry in raw["places"]:
        assert isinstance(entry["population"], int) and 1990 < entry["year"] <= 2020, entry["name"]
        if entry.get("verified", True):
            assert entry["source_publisher"] and entry["source_title"] and entry["source_url"], entry["name"]
        else:
            assert entry["verification_note"], entry["name"]
    ruins = figures[figures["kind"] == "ruins"]
    assert set(ruins["population"]) == {0} and len(ruins) == 5
    assert "displaced" in raw["meta"]["displaced_note"]
    assert FIGURES_PATH.name == "population_figures.toml"


# Independent figures, each from a different page than the one cited in the figures file where one was
# found: the test fails if a typed figure drifts from the published record.
INDEPENDENT = {
    "Kapan": 43_190,  # List of cities and towns in Armenia (Wikipedia via wiki.outremer.quest), 2011 census
    "Goris": 20_591,  # citypopulation.de, 2011-10-12 census
    "Agarak": 4_429,  # Wikipedia (el) via tools.eti.pw, 2011 census
    "Jolfa (Iran)": 8_810,  # Wikipedia via marbk-97t.win mirror, 2016 census
    "Parsabad": 93_387,  # Central District (Parsabad County), everything.explained.today, 2016 census
    "Aslan Duz": 6_348,  # Parsabad County table (Aslan Duz city), Wikipedia via kiwix.haohe.fun, 2016 census
}


def test_typed_figures_match_independent_publications(figures: gpd.GeoDataFrame) -> None:
    typed = dict(zip(figures["name"], figures["population"], strict=True))
    for name, expected in INDEPENDENT.items():
        assert typed[name] == expected, name
