"""The web map: Folium page builder, static PNG renderer and alt text (no HTTP in here)."""
