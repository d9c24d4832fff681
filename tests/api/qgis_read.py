"""Read the events collection through QGIS's OAPIF provider; run by test_qgis_client.py with Debian's python3.

Usage: ``python3 qgis_read.py URL [subset-string] [west,south,east,north]``. Prints one JSON object: the feature
count, the field types and the features' ``sources_text`` (QT_QPA_PLATFORM=offscreen: no display is needed).
"""

import json
import os
import sys


def main() -> None:
    """Load the layer with the filters of the command line and print what QGIS read."""
    # imported here: pytest imports this module (doctests) in the project's venv, which has no QGIS
    from qgis.core import QgsApplication, QgsFeatureRequest, QgsRectangle, QgsVectorLayer

    url, subset, box = (sys.argv[1:] + ["", ""])[:3]
    app = QgsApplication([], False)
    app.initQgis()
    # restrictToRequestBBOX: QGIS's "only request features overlapping the view extent"
    restrict = " restrictToRequestBBOX='1'" if box else ""
    layer = QgsVectorLayer(f"url='{url}' typename='events'{restrict}", "events", "OAPIF")
    if subset:
        layer.setSubsetString(subset)
    request = QgsFeatureRequest()
    if box:
        request.setFilterRect(QgsRectangle(*[float(v) for v in box.split(",")]))
    features = list(layer.getFeatures(request)) if layer.isValid() else []
    print(
        json.dumps(
            {
                "valid": layer.isValid(),
                "count": len(features),
                "fields": {field.name(): field.typeName() for field in layer.fields()},
                "sources_text": [f["sources_text"] for f in features],
            }
        ),
        flush=True,
    )
    # QGIS 3.22 may crash while tearing down its providers after the answer is out: leave without it
    os._exit(0)


if __name__ == "__main__":
    main()
