"""The OpenAPI document as version 3.0, which OGC API - Features (and GDAL, QGIS, OWSLib) expect.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12); the few 3.1-only constructs it emits for our models are
rewritten into their 3.0 equivalents: ``{"type": "null"}`` alternatives become ``nullable``, ``const`` becomes
a one-value ``enum``, numeric ``exclusiveMinimum``/``exclusiveMaximum`` become the boolean forms, and
``examples`` lists become a single ``example``.
"""

from __future__ import annotations

from typing import Any

OPENAPI_VERSION = "3.0.3"


def to_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` rewritten as OpenAPI 3.0.

    Examples
    --------
    >>> to_openapi_30({"openapi": "3.1.0", "s": {"anyOf": [{"type": "string"}, {"type": "null"}]}})
    {'openapi': '3.0.3', 's': {'type': 'string', 'nullable': True}}

    """
    out = _convert(document)
    out["openapi"] = OPENAPI_VERSION
    out.pop("jsonSchemaDialect", None)
    return out


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _convert(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        if key in node and isinstance(node[key], list) and {"type": "null"} in node[key]:
            rest = [s for s in node[key] if s != {"type": "null"}]
            node.pop(key)
            if len(rest) == 1:
                node = {**rest[0], **node}
            else:
                node[key] = rest
            node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for key, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(key), int | float) and not isinstance(node.get(key), bool):
            node[flag] = node.pop(key)
            node[key] = True
    if isinstance(node.get("examples"), list) and "schema" not in node and node["examples"]:
        node["example"] = node.pop("examples")[0]
    if isinstance(node.get("type"), list):
        types = [t for t in node["type"] if t != "null"]
        if len(types) < len(node["type"]):
            node["nullable"] = True
        node["type"] = types[0] if len(types) == 1 else types
    return node
