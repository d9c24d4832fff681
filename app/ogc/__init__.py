"""The OGC API - Features edge: parameter parsing, CRS handling, documents, links, caching and error mapping."""
