// Leaflet maps of the HTML pages: each .czmap-map element loads its GeoJSON by URL with fetch().
// Values come from escaped data attributes; feature properties are shown with textContent, never as HTML.
(function () {
  "use strict";

  function escapeHtml(text) {
    var span = document.createElement("span");
    span.textContent = text || "";
    return span.innerHTML;
  }

  function popup(feature) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = String(feature.id);
    box.appendChild(title);
    var props = feature.properties || {};
    Object.keys(props).forEach(function (key) {
      if (props[key] === null || props[key] === "") return;
      var line = document.createElement("div");
      line.textContent = key + ": " + props[key];
      box.appendChild(line);
    });
    return box;
  }

  function setUp(el) {
    var status = el.nextElementSibling;
    var style = JSON.parse(el.dataset.style || "{}");
    var bbox = JSON.parse(el.dataset.bbox || "null");
    var map = L.map(el);
    if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: escapeHtml(el.dataset.tilesAttribution) }).addTo(map);
    }
    var pathStyle = {
      color: style.color || "#3388ff",
      weight: style.weight || 2,
      fillOpacity: style.fill_opacity === undefined ? 0.2 : style.fill_opacity,
      dashArray: style.dash || null
    };
    fetch(el.dataset.url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          style: function () { return pathStyle; },
          pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, Object.assign({ radius: 5 }, pathStyle)); },
          onEachFeature: function (feature, featureLayer) { featureLayer.bindPopup(popup(feature)); }
        }).addTo(map);
        if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { maxZoom: 12 });
        el.dataset.loaded = String(layer.getLayers().length);
      })
      .catch(function (error) {
        if (status) status.textContent = "Could not load the features: " + error.message;
      });
  }

  document.querySelectorAll(".czmap-map").forEach(setUp);
})();
