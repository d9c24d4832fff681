"""Collection metadata and queryables."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.http.request import base_url, reject_unknown_parameters
from app.ogc import documents
from app.ogc.html import render
from app.ogc.params import CollectionDep, RegistryDep, SettingsDep, conditional, page_format
from app.responses import JSONResponse, SchemaResponse

router = APIRouter(tags=["Collections"], dependencies=[Depends(reject_unknown_parameters)])
FormatDep = Annotated[str, Depends(page_format)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No collection with this id."},
    400: {"description": "Invalid parameter."},
}


@router.get("/collections", summary="Feature collections", response_class=JSONResponse, operation_id="getCollections")
def list_collections(request: Request, registry: RegistryDep, settings: SettingsDep, fmt: FormatDep) -> Response:
    """Every collection with its extent, CRS, licence and links."""
    headers = conditional(request, settings, registry.version, fmt)
    if fmt == "html":
        return render(request, "collections.html", headers, collections=registry.list())
    return JSONResponse(documents.collections(registry, base_url(request), request.url), headers=headers)


@router.get(
    "/collections/{collectionId}",
    summary="Collection metadata",
    response_class=JSONResponse,
    responses=NOT_FOUND,
    operation_id="describeCollection",
)
def describe_collection(request: Request, collection: CollectionDep, settings: SettingsDep, fmt: FormatDep) -> Response:
    """Spatial extent (CRS84), temporal extent, CRS, licence, attribution and links to the features."""
    headers = conditional(request, settings, collection.meta.version, fmt, collection.mutable)
    if fmt == "html":
        return render(request, "collection.html", headers, c=collection)
    return JSONResponse(documents.collection(collection, base_url(request)), headers=headers)


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Queryables",
    response_class=SchemaResponse,
    responses=NOT_FOUND,
    operation_id="getQueryables",
)
def get_queryables(request: Request, collection: CollectionDep, settings: SettingsDep, fmt: FormatDep) -> Response:
    """The properties that can be used in ``filter`` and as ``name=value`` parameters, as a JSON Schema."""
    headers = conditional(request, settings, collection.meta.version, fmt, collection.mutable)
    if fmt == "html":
        return render(request, "queryables.html", headers, c=collection, queryables=collection.queryables())
    return SchemaResponse(documents.queryables(collection, base_url(request)), headers=headers)


@router.get(
    "/collections/{collectionId}/schema",
    summary="JSON Schema of the features",
    response_class=SchemaResponse,
    responses=NOT_FOUND,
    operation_id="getFeatureSchema",
)
def get_feature_schema(request: Request, collection: CollectionDep, settings: SettingsDep) -> Response:
    """The features of the collection as a JSON Schema: the type of each property (GIS clients type fields by it)."""
    headers = conditional(request, settings, collection.meta.version, "json", collection.mutable)
    return SchemaResponse(documents.feature_schema(collection, base_url(request)), headers=headers)
