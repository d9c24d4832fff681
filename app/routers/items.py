"""Features of a collection: pages (GeoJSON, HTML, CSV), whole-layer downloads, single features."""

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import FileResponse, Response

from app.collections.base import Collection, FeaturePage, ItemsQuery
from app.errors import FormatNotAvailable, InvalidParameter
from app.http.request import base_url, reject_unknown_parameters
from app.http.response_cache import cached_or_built
from app.ogc import documents
from app.ogc.crs import reproject_features
from app.ogc.formats import features_to_csv
from app.ogc.html import render
from app.ogc.links import CSV, FORMAT_TYPES, GEOJSON, HTML, link_header, with_query
from app.ogc.params import CollectionDep, ItemsQueryDep, SettingsDep, conditional, items_format, output_crs, page_format
from app.responses import CSVResponse, GeoJSONResponse

router = APIRouter(tags=["Features"])
CrsDep = Annotated[str, Depends(output_crs)]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such collection or feature."},
    400: {"description": "Invalid parameter."},
}
PAGE_TYPES = {"json": GEOJSON, "html": HTML, "csv": CSV}


@router.get(
    "/collections/{collectionId}/items",
    summary="Features",
    response_class=GeoJSONResponse,
    responses=ERRORS,
    operation_id="getFeatures",
)
def get_features(
    request: Request,
    collection: CollectionDep,
    query: ItemsQueryDep,
    settings: SettingsDep,
    fmt: Annotated[str, Depends(items_format)],
    crs: CrsDep,
) -> Response:
    """A page of features; a query parameter named after a queryable filters on equality (see /queryables)."""
    # the event store's version is read now, once: during an outage ``meta`` is the last one read, and its pages
    # must answer 503, never a page (or a 304) from before
    version = collection.version_now() if collection.mutable else collection.meta.version
    headers = conditional(request, settings, version, f"{fmt}|{crs}", collection.mutable)
    if fmt in ("gpkg", "fgb"):
        return _download(request, collection, fmt, headers)
    # pages of the immutable layers are kept by the response cache in front of the app; the event store's here,
    # by their ETag (version, query, format) and address (the links): a map's readers ask for the same page
    cache = request.app.state.event_page_cache if collection.mutable else None
    key = ("items", headers["ETag"], base_url(request))
    return cached_or_built(cache, key, lambda: _features_page(request, collection, query, fmt, crs, headers))


def _features_page(
    request: Request, collection: Collection, query: ItemsQuery, fmt: str, crs: str, headers: dict[str, str]
) -> Response:
    page = collection.items(query)
    if query.hits:
        page = FeaturePage([], page.number_matched, more=False)
    page = replace(page, features=reproject_features(page.features, crs))
    doc = documents.items(page, query, collection, base_url(request), request.url, PAGE_TYPES)
    headers |= {"Link": link_header(doc["links"]), "Content-Crs": f"<{crs}>"}
    if fmt == "html":
        return _items_html(request, collection, doc, headers)
    if fmt == "csv":
        return CSVResponse(features_to_csv(page.features), headers=headers)
    return GeoJSONResponse(doc, headers=headers)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    summary="One feature",
    response_class=GeoJSONResponse,
    responses=ERRORS,
    operation_id="getFeature",
    dependencies=[Depends(reject_unknown_parameters)],
)
def get_feature(
    request: Request,
    collection: CollectionDep,
    feature_id: Annotated[str, Path(alias="featureId", description="Id of a feature of the collection.")],
    settings: SettingsDep,
    fmt: Annotated[str, Depends(page_format)],
    crs: CrsDep,
) -> Response:
    """One feature at full resolution."""
    headers = conditional(request, settings, collection.meta.version, f"{fmt}|{crs}", collection.mutable)
    feature = reproject_features([collection.item(feature_id)], crs)[0]
    doc = documents.feature(feature, collection, base_url(request), request.url)
    headers |= {"Link": link_header(doc["links"]), "Content-Crs": f"<{crs}>"}
    if fmt == "html":
        map_url = with_query(request.url, f="json", crs=None)
        return render(request, "item.html", headers, c=collection, doc=doc, map_url=map_url)
    return GeoJSONResponse(doc, headers=headers)


def _download(request: Request, collection: Collection, fmt: str, headers: dict[str, str]) -> Response:
    path = collection.meta.downloads.get(fmt)
    if path is None:
        raise FormatNotAvailable(collection.meta.id, fmt, ["json", "html", "csv", *collection.meta.downloads])
    filters = [name for name in request.query_params if name != "f"]
    if filters:
        raise InvalidParameter("f", f"f={fmt} downloads the whole collection; remove {', '.join(sorted(filters))}")
    return FileResponse(
        path, media_type=FORMAT_TYPES[fmt], filename=f"{collection.meta.id}.{fmt}", headers=headers, stat_result=None
    )


def _items_html(request: Request, collection: Collection, doc: dict, headers: dict[str, str]) -> Response:
    columns = list(dict.fromkeys(k for f in doc["features"] for k in (f.get("properties") or {}) if k != "id"))
    map_url = with_query(request.url, f="json", crs=None)
    return render(request, "items.html", headers, c=collection, doc=doc, columns=columns, map_url=map_url)
