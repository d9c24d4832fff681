"""Reported events: the domain model, its stores (SQLite and PostGIS), auth, audit, import/export and geocoding.

Nothing here imports FastAPI: the HTTP layer maps :mod:`app.events.errors` to status codes.
"""
