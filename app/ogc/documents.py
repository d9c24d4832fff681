"""The JSON documents of OGC API - Features: landing page, conformance, collections, queryables, items.

Pure functions of the domain objects and a base URL, so they are the same for every backend and format.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import URL

from app.collections.base import Collection, CollectionMeta, FeaturePage, ItemsQuery, TimeInterval
from app.collections.registry import CollectionRegistry
from app.ogc import crs as ogc_crs
from app.ogc.links import FGB, GEOJSON, GPKG, HTML, JSON, OPENAPI, SCHEMA, format_links, link, with_query
from app.settings import Settings
from app.tiles import documents as tiles

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    *tiles.CONFORMANCE,
]
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
PAGE_FORMATS = {"json": JSON, "html": HTML}


def landing(settings: Settings, registry: CollectionRegistry, base: str, url: URL) -> dict[str, Any]:
    """The landing page: title, links to the API parts, and the licence and attribution of every collection."""
    return {
        "title": settings.service.title,
        "description": settings.service.description,
        "attribution": "; ".join(dict.fromkeys(c.meta.attribution for c in registry if c.meta.attribution)),
        "licences": [
            {"collection": c.meta.id, "name": c.meta.licence.name, "url": c.meta.licence.url} for c in registry
        ],
        "links": [
            *format_links(url, "json", PAGE_FORMATS, "landing page"),
            link(f"{base}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{base}/api.html", "service-doc", HTML, "The API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes implemented"),
            link(f"{base}/collections", "data", JSON, "The feature collections"),
            link(f"{base}/tileMatrixSets", tiles.REL_TILING_SCHEMES, JSON, "The tile matrix sets of the vector tiles"),
        ],
    }


def conformance(url: URL) -> dict[str, Any]:
    """The conformance declaration."""
    return {"conformsTo": CONFORMANCE, "links": format_links(url, "json", PAGE_FORMATS, "document")}


def collection(item: Collection, base: str) -> dict[str, Any]:
    """Metadata of one collection: extents in CRS84, CRS, licence and attribution, links."""
    meta = item.meta
    here = f"{base}/collections/{meta.id}"
    links = [
        link(here, "self", JSON, "This collection"),
        link(f"{here}?f=html", "alternate", HTML, "This collection as HTML"),
        link(f"{here}/items", "items", GEOJSON, "The features"),
        link(f"{here}/items?f=html", "items", HTML, "The features as HTML"),
        link(f"{here}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA, "Queryables"),
        link(f"{here}/tiles", tiles.REL_VECTOR_TILESETS, JSON, "Vector tilesets (Mapbox Vector Tiles)"),
        # GDAL's OAPIF driver (3.6 to 3.12) types its fields from this link; without it, from the first page
        link(f"{here}/schema", "describedBy", SCHEMA, "JSON Schema of the features"),
    ]
    if meta.licence.url:
        links.append(link(meta.licence.url, "license", HTML, meta.licence.name))
    download_types = {"gpkg": GPKG, "fgb": FGB}
    for fmt in meta.downloads:
        links.append(link(f"{here}/items?f={fmt}", "enclosure", download_types.get(fmt), f"Whole layer ({fmt})"))
    return {
        "id": meta.id,
        "title": meta.title,
        "description": meta.description,
        "keywords": list(meta.keywords),
        "itemType": "feature",
        "extent": _extent(meta),
        "crs": list(ogc_crs.SUPPORTED),
        "storageCrs": ogc_crs.CRS84,
        "license": meta.licence.name,
        "attribution": meta.attribution,
        "geometryType": meta.geometry_type,
        "version": meta.version,
        "zoomLevels": list(meta.zooms),
        "links": links,
    }


def _extent(meta: CollectionMeta) -> dict[str, Any]:
    extent: dict[str, Any] = {"spatial": {"bbox": [list(meta.bbox)], "crs": ogc_crs.CRS84}}
    if meta.temporal is not None:
        extent["temporal"] = {"interval": [[_iso(meta.temporal.start), _iso(meta.temporal.end)]], "trs": TRS}
    return extent


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def collections(registry: CollectionRegistry, base: str, url: URL) -> dict[str, Any]:
    """The list of collections."""
    return {
        "links": format_links(url, "json", PAGE_FORMATS, "list of collections"),
        "collections": [collection(item, base) for item in registry],
        "crs": list(ogc_crs.SUPPORTED),
    }


def queryables(item: Collection, base: str) -> dict[str, Any]:
    """The queryables of a collection as a JSON Schema."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{item.meta.id}/queryables",
        "type": "object",
        "title": item.meta.title,
        "properties": {name: q.json_schema() for name, q in item.queryables().items()},
        "additionalProperties": False,
    }


def feature_schema(item: Collection, base: str) -> dict[str, Any]:
    """A JSON Schema of the collection's GeoJSON features, with the type of every queryable property.

    GIS clients type their fields from it (GDAL's OAPIF driver follows the collection's ``describedBy`` link), so a
    number column is numeric even where the first page holds only nulls. Each property is given by its type
    alone, as the clients read it; a missing value is sent as null.
    """
    properties = {
        name: q.json_schema() for name, q in item.queryables().items() if q.type != "geometry" and name != "id"
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{item.meta.id}/schema",
        "title": item.meta.title,
        "description": "A feature of the collection; any property may be null (no value).",
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"type": "object", "description": f"A GeoJSON {item.meta.geometry_type or 'geometry'}."},
            "properties": {"type": "object", "properties": properties},
        },
    }


def items(
    page: FeaturePage, query: ItemsQuery, item: Collection, base: str, url: URL, formats: dict[str, str]
) -> dict[str, Any]:
    """A FeatureCollection page with numberMatched, numberReturned, timeStamp and paging links."""
    links = format_links(url, "json", formats, "page")
    if page.has_more(query.offset) and page.next_cursor is not None:  # keyset: deep pages cost what the first does
        links.append(link(with_query(url, cursor=page.next_cursor, offset=None), "next", GEOJSON, "Next page"))
    elif page.has_more(query.offset):
        links.append(link(with_query(url, offset=query.offset + query.limit), "next", GEOJSON, "Next page"))
    if query.offset > 0 and query.cursor is None:
        previous = max(query.offset - query.limit, 0)
        links.append(link(with_query(url, offset=previous or None), "prev", GEOJSON, "Previous page"))
    links.append(link(f"{base}/collections/{item.meta.id}", "collection", JSON, item.meta.title))
    document: dict[str, Any] = {"type": "FeatureCollection"}
    if page.number_matched is not None:  # optional in OGC API - Features; left out rather than guessed
        document["numberMatched"] = page.number_matched
    return {
        **document,
        "numberReturned": len(page.features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
        "features": page.features,
    }


def feature(feature_dict: dict[str, Any], item: Collection, base: str, url: URL) -> dict[str, Any]:
    """One feature with its links."""
    links = [
        *format_links(url, "json", {"json": GEOJSON, "html": HTML}, "feature"),
        link(f"{base}/collections/{item.meta.id}", "collection", JSON, item.meta.title),
    ]
    return {**feature_dict, "links": links}


def temporal_text(interval: TimeInterval | None) -> str:
    """A temporal extent as text for HTML pages."""
    if interval is None:
        return "no limit"
    return f"{_iso(interval.start) or '..'} / {_iso(interval.end) or '..'}"
