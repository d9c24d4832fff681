"""Coordinate reference systems the pipeline measures in.

Storage and the API are in CRS84 (EPSG:4326 axis order lon/lat). Areas are computed in an equal-area CRS and
distances and buffers in metres in a conformal projected CRS, never in degrees.
"""

STORAGE_CRS = "EPSG:4326"
#: WGS 84 / NSIDC EASE-Grid 2.0 Global: a global cylindrical equal-area CRS, so areas are exact anywhere.
EQUAL_AREA_CRS = "EPSG:6933"
#: WGS 84 / UTM zone 38N: scale error under 0.1% over the region (42-48 E), used for buffers and lengths.
METRIC_CRS = "EPSG:32638"
