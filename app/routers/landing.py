"""Landing page, conformance declaration and the API definition."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.http.request import base_url, reject_unknown_parameters
from app.ogc import documents
from app.ogc.html import render
from app.ogc.openapi import to_openapi_30
from app.ogc.params import RegistryDep, SettingsDep, conditional, page_format
from app.responses import JSONResponse, OpenAPIResponse

router = APIRouter(tags=["Capabilities"], dependencies=[Depends(reject_unknown_parameters)])
FormatDep = Annotated[str, Depends(page_format)]


@router.get("/", summary="Landing page", response_class=JSONResponse, operation_id="getLandingPage")
def landing_page(request: Request, registry: RegistryDep, settings: SettingsDep, fmt: FormatDep) -> Response:
    """Links to the API definition, the conformance classes and the collections; licences of every layer."""
    headers = conditional(request, settings, registry.version, fmt)
    doc = documents.landing(settings, registry, base_url(request), request.url)
    if fmt == "html":
        return render(request, "landing.html", headers, doc=doc, collections=registry.list())
    return JSONResponse(doc, headers=headers)


@router.get("/conformance", summary="Conformance classes", response_class=JSONResponse, operation_id="getConformance")
def conformance(request: Request, settings: SettingsDep, fmt: FormatDep) -> Response:
    """The OGC conformance classes this service implements."""
    headers = conditional(request, settings, "conformance", fmt)
    doc = documents.conformance(request.url)
    if fmt == "html":
        return render(request, "conformance.html", headers, doc=doc)
    return JSONResponse(doc, headers=headers)


@router.get("/api", summary="API definition (OpenAPI 3.0)", response_class=OpenAPIResponse, operation_id="getAPI")
def api_definition(request: Request, settings: SettingsDep, fmt: FormatDep) -> Response:
    """The OpenAPI 3.0 document of this service (``f=html`` for the documentation page)."""
    doc = to_openapi_30(request.app.openapi())
    if fmt == "html":
        return render(request, "api.html", doc=doc)
    return OpenAPIResponse(doc)


@router.get("/api/docs", summary="Interactive API documentation", include_in_schema=False)
def interactive_documentation(request: Request) -> Response:
    """Swagger UI over ``/api``, with its files served locally (never from a CDN) and no inline script (CSP)."""
    root = request.scope.get("root_path", "")
    return render(request, "swagger.html", title=request.app.title, root=root)


@router.get("/api.html", summary="API documentation", include_in_schema=False)
def api_documentation(request: Request) -> Response:
    """Human-readable documentation of every operation and parameter."""
    return render(request, "api.html", doc=to_openapi_30(request.app.openapi()))
