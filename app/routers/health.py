"""Probes for process managers and load balancers: ``/health`` (the process answers) and ``/ready`` (its stores).

``/health`` never touches a store: 200 while the process can answer at all. ``/ready`` checks each dependency
(the built layers, the event database) and answers 503 with ``Retry-After`` naming the one that is down, so a
load balancer can stop sending event traffic while layers and the map are still served.
(No ``from __future__ import annotations`` here: FastAPI reads these annotations at run time.)
"""

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.events.errors import StoreDown
from app.http.request import reject_unknown_parameters
from app.responses import JSONResponse

router = APIRouter(tags=["Health"], dependencies=[Depends(reject_unknown_parameters)])
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/health", summary="Liveness", operation_id="getHealth")
def health() -> Response:
    """``{"status": "alive"}`` while the process answers; it reads no store."""
    return JSONResponse({"status": "alive"}, headers=NO_STORE)


@router.get(
    "/ready",
    summary="Readiness, per dependency",
    operation_id="getReady",
    responses={503: {"description": "A dependency is down; the body names it."}},
)
async def ready(request: Request) -> Response:
    """Each dependency with ``up`` or ``down`` (and why); 200 when all are up, else 503 with Retry-After."""
    checks: dict[str, dict[str, Any]] = {}
    retry_after = 0
    state = request.app.state
    checks["layers"] = (
        {"status": "up"}
        if getattr(state, "layers", None) is not None
        else {"status": "down", "description": "no built layers: run `czmap geodata build`"}
    )
    service = getattr(state, "events", None)
    if service is None:
        checks["events"] = {"status": "down", "description": "no event store is open"}
    else:
        try:
            await run_in_threadpool(service.store.ping)
            checks["events"] = {"status": "up", "backend": service.store.backend}
        except StoreDown as exc:
            checks["events"] = {"status": "down", "backend": service.store.backend, "description": str(exc)}
            retry_after = exc.retry_after
    down = sorted(name for name, check in checks.items() if check["status"] != "up")
    body = {"status": "unavailable" if down else "ready", "down": down, "checks": checks}
    headers = dict(NO_STORE)
    if down:
        headers["Retry-After"] = str(retry_after or 5)
    return JSONResponse(body, status_code=503 if down else 200, headers=headers)
