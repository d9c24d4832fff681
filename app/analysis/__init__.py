"""Zone overlap analysis for humanitarian planners: overlap areas, point classification and zone summaries.

Pure domain code (no FastAPI) over the zone index of the layer store (:mod:`app.layerstore`): the functions of
:mod:`app.analysis.service` run per request.
"""
