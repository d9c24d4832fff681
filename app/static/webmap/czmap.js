/* Conflict-zone map: the behaviour behind the Folium page (app/webmap/elements.py).
 *
 * Every value that comes from data (event fields, layer titles) reaches the DOM through textContent,
 * setAttribute or createElement, never innerHTML; links are kept only for http(s) URLs. Data is fetched
 * from the OGC API by URL and never inlined in the page. The whole view lives in the URL (replaceState).
 */
(function () {
  'use strict';

  var czmap = {};
  var VERIFICATION = ['reported', 'corroborated', 'verified', 'disputed', 'retracted'];
  // UCDP GED where_prec (location_precision) and date_prec (date_precision) codes, as the API serves them.
  var PRECISION = {
    1: 'exact location',
    2: 'within about 25 km of the point',
    3: 'somewhere in the district (second-order division)',
    4: 'somewhere in the province or region (first-order division)',
    5: 'along a line (border, river, road) or between places',
    6: 'only the country is known',
    7: 'international waters or airspace'
  };
  var DATE_PRECISION = {
    1: 'exact date', 2: 'within 2 to 6 days', 3: 'only the week is known', 4: 'only the month is known',
    5: 'only the year is known'
  };
  // Radius in metres drawn when no polygon is known for the stated precision (3 and 4 draw their zone).
  var PRECISION_RADIUS_M = { 1: 0, 2: 25000, 3: 40000, 4: 80000, 5: 25000 };
  // Zone layers whose polygon stands for "somewhere in the district / region", best first.
  var PRECISION_ZONES = { 3: ['seven-districts', 'nagorno-karabakh'], 4: ['nagorno-karabakh', 'seven-districts'] };
  // 6 and 7 (country, waters/airspace) have no meaningful point: listed beside the map, never drawn.
  var UNMAPPED_PRECISION = 6;

  // ---------------------------------------------------------------- DOM helpers (no innerHTML with data)
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeUrl(value) {
    if (typeof value !== 'string') { return null; }
    try {
      var url = new URL(value, window.location.href);
      return (url.protocol === 'http:' || url.protocol === 'https:') ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function escapeHtml(value) {
    // Only for the few Leaflet APIs that take an HTML string (layer-control labels).
    return String(value).replace(/[&<>"'`]/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  }

  function list(value) {
    if (Array.isArray(value)) { return value.map(String); }
    return value === undefined || value === null || value === '' ? [] : [String(value)];
  }

  function stopMapEvents(node) {
    L.DomEvent.disableClickPropagation(node);
    L.DomEvent.disableScrollPropagation(node);
  }

  czmap.el = el;
  czmap.safeUrl = safeUrl;
  czmap.escapeHtml = escapeHtml;

  // ---------------------------------------------------------------- view state <-> URL (permalink)
  function ViewState(initial) {
    this.values = Object.assign({}, initial);
    this._timer = null;
  }
  ViewState.prototype.get = function (key) { return this.values[key]; };
  ViewState.prototype.set = function (patch) {
    Object.assign(this.values, patch);
    var self = this;
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(function () { self.write(); }, 150);
  };
  ViewState.prototype.query = function () {
    var v = this.values;
    var q = new URLSearchParams(window.location.search);
    q.set('lat', v.lat.toFixed(4));
    q.set('lon', v.lon.toFixed(4));
    q.set('zoom', String(v.zoom));
    q.set('datetime', v.start === v.end ? v.start : v.start + '/' + v.end);
    q.set('layers', v.layers.join(','));
    if (v.basemap) { q.set('basemap', v.basemap); }
    ['event_type', 'verification'].forEach(function (key) {
      if (v[key] && v[key].length) { q.set(key, v[key].join(',')); } else { q.delete(key); }
    });
    return q;
  };
  ViewState.prototype.write = function () {
    window.history.replaceState(null, '', window.location.pathname + '?' + this.query().toString());
  };

  // ---------------------------------------------------------------- fetching GeoJSON with paging
  function nextLink(body) {
    var links = (body && body.links) || [];
    for (var i = 0; i < links.length; i++) {
      if (links[i].rel === 'next' && links[i].href) { return links[i].href; }
    }
    return null;
  }

  // stop(matched, body), when given, is asked after the first page: true ends the load there ({stopped: true}).
  function fetchFeatures(url, maxFeatures, signal, onPage, stop) {
    var total = 0;
    var matched = null;
    function page(href) {
      return fetch(href, { signal: signal, headers: { Accept: 'application/geo+json' } })
        .then(function (response) {
          if (!response.ok) { throw new Error('HTTP ' + response.status + ' for ' + href); }
          return response.json();
        })
        .then(function (body) {
          var features = body.features || [];
          if (matched === null && typeof body.numberMatched === 'number') { matched = body.numberMatched; }
          if (total === 0 && stop && stop(matched, body)) { return { loaded: 0, matched: matched, stopped: true }; }
          var room = maxFeatures - total;
          features = features.slice(0, room);
          total += features.length;
          onPage(features);
          var next = nextLink(body);
          if (next && total < maxFeatures && features.length) { return page(next); }
          // numberMatched is left out when more events match than the server counts for one page: null then.
          return { loaded: total, matched: matched, truncated: !!next && total >= maxFeatures };
        });
    }
    return page(url);
  }

  function withParams(base, params) {
    var url = new URL(base, window.location.href);
    Object.keys(params).forEach(function (key) {
      if (params[key] !== null && params[key] !== undefined) { url.searchParams.set(key, params[key]); }
    });
    return url.href;
  }

  function displayZoom(zoom) { return zoom < 7 ? 6 : (zoom < 9 ? 8 : 10); }

  // ---------------------------------------------------------------- attribution in small embeds
  // Below 480x360 the layer credits leave the attribution line for a "Data sources" toggle just above it, so the
  // basemap credit and the toggle stay visible in one short line each and never cover the controls.
  var COMPACT = { width: 480, height: 360 };

  function compactAttribution(ctx) {
    var attribution = ctx.map.attributionControl;
    var panel = el('div', { 'class': 'czmap-credits-panel', id: ctx.map.getContainer().id + '-credits', hidden: 'hidden' });
    panel.innerHTML = (ctx.config.attributions || []).join('<br>');  // escaped on the server (webmap/attribution.py)
    var toggle = el('button', {
      type: 'button', 'class': 'czmap-credits-toggle', 'aria-expanded': 'false', 'aria-controls': panel.id
    }, 'Data sources ©');
    L.DomEvent.on(toggle, 'click', function (e) {
      L.DomEvent.preventDefault(e);
      var open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      panel.hidden = !open;
    });
    var credits = control('bottomright', function () {
      var box = el('div', { 'class': 'czmap-credits' });
      box.appendChild(panel);
      box.appendChild(toggle);
      return box;
    });
    var compact = null;
    function apply() {
      var size = ctx.map.getSize();
      var small = size.x <= COMPACT.width || size.y <= COMPACT.height;
      if (small === compact) { return; }
      compact = small;
      ctx.compact = small;
      (ctx.config.attributions || []).forEach(function (html) {
        if (small) { attribution.removeAttribution(html); } else { attribution.addAttribution(html); }
      });
      if (small) { credits.addTo(ctx.map); } else { credits.remove(); }
      ctx.map.getContainer().classList.toggle('czmap-compact', small);
    }
    apply();
    ctx.map.on('resize', apply);
  }

  // ---------------------------------------------------------------- small screens, popups above controls
  var SMALL = { width: 600, height: 500 };
  function isSmall(map) {
    var size = map.getSize();
    return size.x <= SMALL.width || size.y <= SMALL.height;
  }

  function boxesOverlap(a, b) {
    return !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);
  }

  function popupsAboveControls(ctx) {
    // Controls live above the map's panes; while a popup is open, those it would sit under step aside
    // (hidden, not clickable) so the popup is always on top. The attribution stays.
    var map = ctx.map;
    var frame = null;
    function controls() {
      return map.getContainer().querySelectorAll('.leaflet-control:not(.leaflet-control-attribution):not(.czmap-credits)');
    }
    function update() {
      frame = null;
      var popup = map.getContainer().querySelector('.leaflet-popup');
      var box = popup ? popup.getBoundingClientRect() : null;
      Array.prototype.forEach.call(controls(), function (node) {
        node.classList.remove('czmap-under-popup');
        if (box && boxesOverlap(box, node.getBoundingClientRect())) { node.classList.add('czmap-under-popup'); }
      });
    }
    function schedule() { if (frame === null) { frame = window.requestAnimationFrame(update); } }
    map.on('popupopen', function (e) {
      ctx.openPopup = e.popup;
      schedule();
      map.on('move zoom resize', schedule);
    });
    map.on('popupclose', function (e) {
      if (ctx.openPopup === e.popup) { ctx.openPopup = null; }
      map.off('move zoom resize', schedule);
      schedule();
      map.fire('czmap:popupclosed');
    });
  }

  // ---------------------------------------------------------------- the map context
  czmap.context = function (map, config) {
    var ctx = {
      map: map,
      config: config,
      state: new ViewState(config.view),
      status: null,
      renderer: L.canvas({ padding: 0.3 }),
      zoneUrls: {},
      zoneFeatures: {},
      zoneLayers: {},
      zoneDays: {},
      openPopup: null
    };
    // Phones and small frames: every panel starts collapsed to one button, the overview map minimised.
    ctx.small = isSmall(map);
    map.getContainer().classList.toggle('czmap-small', ctx.small);
    map.getContainer().setAttribute('role', 'region');
    map.getContainer().setAttribute('aria-label', config.label);
    map.attributionControl.setPrefix(false);
    // Collapsed to a button (opens on hover, focus or tap), so the legend below it always has room.
    ctx.layerControl = L.control.layers(null, null, { collapsed: true, position: 'topright' }).addTo(map);
    map.on('moveend', function () {
      var c = map.getCenter();
      ctx.state.set({ lat: c.lat, lon: c.lng, zoom: map.getZoom() });
    });
    map.on('overlayadd overlayremove', function (e) {
      var id = e.layer.options && e.layer.options.czmapId;
      if (!id) { return; }
      var layers = ctx.state.get('layers').filter(function (x) { return x !== id; });
      if (e.type === 'overlayadd') { layers.push(id); }
      ctx.state.set({ layers: layers });
    });
    ctx.setStatus = function (text) { if (ctx.status) { ctx.status.textContent = text; } };
    ctx.unmappedBox = null;
    ctx.showUnmapped = function (features) {
      var box = ctx.unmappedBox;
      if (!box) { return; }
      var ul = box.querySelector('ul');
      while (ul.firstChild) { ul.removeChild(ul.firstChild); }
      features.forEach(function (f) { ul.appendChild(unmappedItem(f)); });
      box.querySelector('summary').textContent = features.length + (features.length === 1 ? ' event' : ' events') +
        ' not on the map (only the country or waters/airspace known)';
      box.hidden = !features.length;
    };
    compactAttribution(ctx);
    popupsAboveControls(ctx);
    ctx.visible = function (id) { return ctx.state.get('layers').indexOf(id) !== -1; };
    ctx.state.write();
    map._czmap = ctx;
    return ctx;
  };

  // ---------------------------------------------------------------- zone layers
  // Fill of a feature by who controlled it (layers with a controlled_by column), Okabe-Ito, matched by words.
  var CONTROL_COLOURS = [['armenia', '#D55E00'], ['azerbaijan', '#0072B2'], ['russia', '#F0E442'], ['peacekeep', '#F0E442']];
  function controlColour(value) {
    var text = String(value || '').toLowerCase();
    for (var i = 0; i < CONTROL_COLOURS.length; i++) {
      if (text.indexOf(CONTROL_COLOURS[i][0]) !== -1) { return CONTROL_COLOURS[i][1]; }
    }
    return null;
  }
  czmap.controlColour = controlColour;

  function dayBefore(iso) {
    var d = new Date(iso + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() - 1);
    return d.toISOString().slice(0, 10);
  }

  function addDays(iso, days) {
    var d = new Date(iso + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  // The day a dated layer is drawn for: the last day shown; but a layer that ended within the dates shown
  // (the 1994 line of contact ends on 10 November 2020) is drawn as on its last day, the day before it ended.
  function layerDay(ctx, validTo) {
    var start = ctx.state.get('start');
    var end = ctx.state.get('end');
    if (validTo && validTo <= end && validTo > start) { return { day: dayBefore(validTo), lastDay: true }; }
    return { day: end, lastDay: false };
  }
  czmap.layerDay = layerDay;

  czmap.zoneLayer = function (ctx, opts) {
    var map = ctx.map;
    var style = opts.style || {};
    // One pane per layer, stacked in the declared order: the drawing order never depends on which request
    // answers first.
    var paneName = 'czmap-zone-' + opts.order;
    map.createPane(paneName).style.zIndex = String(410 + opts.order);
    var pathStyle = {
      color: style.color, weight: style.weight || 1.5, dashArray: style.dash || null,
      fillColor: style.color, fillOpacity: style.fill_opacity || 0, pane: paneName,
      renderer: L.canvas({ padding: 0.3, pane: paneName })
    };
    ctx.zoneUrls[opts.id] = opts.url;
    var layer = L.geoJSON(null, {
      czmapId: opts.id,
      pane: paneName,
      style: function (feature) {
        var colour = controlColour(feature && feature.properties && feature.properties.controlled_by);
        if (!colour) { return pathStyle; }
        return Object.assign({}, pathStyle, { color: '#333333', fillColor: colour, fillOpacity: 0.35, weight: 1 });
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, Object.assign({}, pathStyle, { radius: style.radius || 3, fillOpacity: 0.8 }));
      },
      onEachFeature: function (feature, featureLayer) {
        var p = feature.properties || {};
        var name = p.name || p.district || p.id || opts.title;
        if (p.controlled_by) { name += ': ' + p.controlled_by + (p.valid_from ? ' from ' + p.valid_from : ''); }
        featureLayer.bindTooltip(el('span', { 'class': 'czmap-tooltip' }, name), { sticky: true });
      }
    });
    var loadedKey = null;
    var controller = null;

    function load() {
      var params = { f: 'json', limit: opts.pageSize };
      if (opts.variants) { params.zoom = displayZoom(map.getZoom()); }
      var when = layerDay(ctx, opts.validTo);
      if (opts.dated) { params.datetime = when.day; }
      var url = withParams(opts.url, params);
      if (url === loadedKey) { return; }
      if (controller) { controller.abort(); }
      controller = new AbortController();
      var features = [];
      fetchFeatures(url, opts.maxFeatures, controller.signal, function (page) { features = features.concat(page); })
        .then(function () {
          loadedKey = url;
          layer.clearLayers();
          layer.addData({ type: 'FeatureCollection', features: features });
          var byId = {};
          features.forEach(function (f) { if (f.properties && f.properties.id !== undefined) { byId[String(f.properties.id)] = f; } });
          ctx.zoneFeatures[opts.id] = byId;
          ctx.zoneDays[opts.id] = opts.dated ? when : null;
          map.getContainer().setAttribute('data-zone-' + opts.id, String(features.length));
          map.fire('czmap:zones', { id: opts.id, features: features });
        })
        .catch(function (err) { if (err.name !== 'AbortError') { ctx.setStatus('Could not load ' + opts.title + '.'); } });
    }

    layer.on('add', load);
    map.on('zoomend', function () { if (map.hasLayer(layer)) { load(); } });
    map.on('czmap:datetime', function () { if (map.hasLayer(layer)) { load(); } });
    ctx.zoneLayers[opts.id] = layer;
    ctx.layerControl.addOverlay(layer, escapeHtml(opts.title));
    if (ctx.visible(opts.id)) { layer.addTo(map); }
    return layer;
  };

  // ---------------------------------------------------------------- events: icons, popups, uncertainty
  function typeKey(type) {
    var t = String(type || '').toLowerCase();
    if (t.indexOf('battle') !== -1 || t.indexOf('armed clash') !== -1) { return 'battle'; }
    if (t.indexOf('explosion') !== -1 || t.indexOf('shelling') !== -1 || t.indexOf('remote') !== -1 ||
        t.indexOf('strike') !== -1 || t.indexOf('drone') !== -1) { return 'explosion'; }
    if (t.indexOf('civilian') !== -1) { return 'civilians'; }
    if (t.indexOf('strategic') !== -1) { return 'strategic'; }
    return 'other';
  }
  czmap.typeKey = typeKey;

  function verificationOf(p) { return VERIFICATION.indexOf(p.verification) === -1 ? 'reported' : p.verification; }

  function symbol(p, extra) {
    return el('span', {
      'class': 'czmap-event czmap-event-' + typeKey(p.event_type) + ' czmap-ver-' + verificationOf(p) + (extra || ''),
      'aria-hidden': 'true'
    });
  }

  function eventIcon(p) {
    var precise = Number(p.location_precision) === 1;
    return L.divIcon({
      html: symbol(p, precise ? '' : ' czmap-imprecise'), className: 'czmap-event-icon', iconSize: [22, 22], iconAnchor: [11, 11]
    });
  }

  function isUnmapped(p) { return Number(p.location_precision) >= UNMAPPED_PRECISION; }

  function dateText(p) {
    var start = p.date_start || '';
    var end = p.date_end || start;
    var text = start === end ? start : start + ' to ' + end;
    var precision = DATE_PRECISION[Number(p.date_precision)];
    return precision && Number(p.date_precision) !== 1 ? text + ' (' + precision + ')' : text;
  }

  function present(value) { return value !== undefined && value !== null && value !== ''; }

  function row(dl, term, value) {
    if (!present(value) || (Array.isArray(value) && !value.length)) { return; }
    dl.appendChild(el('dt', {}, term));
    dl.appendChild(el('dd', {}, Array.isArray(value) ? value.join(', ') : value));
  }

  function fatalities(p) {
    var best = p.fatalities_best;
    var low = p.fatalities_low;
    var high = p.fatalities_high;
    if (!present(best) && !present(low) && !present(high)) { return null; }
    var text = present(best) ? String(best) : 'unknown';
    if (present(low) && present(high)) { text += ' (range ' + low + ' to ' + high + ')'; }
    else if (present(low)) { text += ' (at least ' + low + ')'; }
    else if (present(high)) { text += ' (at most ' + high + ')'; }
    return text;
  }

  function sourcesList(sources) {
    var ul = el('ul', { 'class': 'czmap-sources' });
    (Array.isArray(sources) ? sources : []).forEach(function (s) {
      if (!s || typeof s !== 'object') { return; }
      var li = el('li');
      // A headline is quoted; a title the editors wrote to describe the report is not.
      var title = s.title ? (s.title_is_descriptive ? s.title : '\u201c' + s.title + '\u201d') : '';
      var label = [s.publisher, title].filter(Boolean).join(': ') || s.url || 'source';
      var href = safeUrl(s.url);
      if (href) {
        li.appendChild(el('a', { href: href, target: '_blank', rel: 'noopener noreferrer nofollow' }, label));
      } else {
        li.appendChild(el('span', {}, label));
      }
      if (s.published) { li.appendChild(el('span', { 'class': 'czmap-published' }, ' (' + s.published + ')')); }
      ul.appendChild(li);
    });
    return ul;
  }

  function popupContent(p, heading) {
    // In a popup (h3) or in the list of events without a point (h4, class czmap-listed).
    var box = el('article', { 'class': heading === 'h4' ? 'czmap-event-card czmap-listed' : 'czmap-event-card czmap-popup' });
    box.appendChild(el(heading || 'h3', {}, p.place_name || 'Unnamed place'));
    var dl = el('dl');
    row(dl, 'Date', dateText(p));
    row(dl, 'Place', p.place_name);
    row(dl, 'Type', [p.event_type, p.sub_event_type].filter(Boolean).join(': '));
    row(dl, 'Reported by', list(p.claimed_by));
    row(dl, 'Status', p.verification);
    row(dl, 'Location', PRECISION[Number(p.location_precision)] || 'precision not stated');
    row(dl, 'Actors', list(p.actors));
    row(dl, 'Fatalities', fatalities(p));
    row(dl, 'Notes', p.notes);
    row(dl, 'Event id', p.id);
    box.appendChild(dl);
    if (Array.isArray(p.sources) && p.sources.length) {
      box.appendChild(el(heading === 'h4' ? 'h5' : 'h4', {}, 'Sources'));
      box.appendChild(sourcesList(p.sources));
    }
    return box;
  }
  czmap.popupContent = popupContent;

  function eventZones(p, precision) {
    // The event's zones ("layer:feature-id", computed by the server) in the layers that fit its precision.
    var wanted = PRECISION_ZONES[precision] || [];
    var found = [];
    list(p.zones).forEach(function (zone) {
      var cut = zone.indexOf(':');
      if (cut > 0) { found.push({ layer: zone.slice(0, cut), id: zone.slice(cut + 1) }); }
    });
    found = found.filter(function (z) { return wanted.indexOf(z.layer) !== -1; });
    found.sort(function (a, b) { return wanted.indexOf(a.layer) - wanted.indexOf(b.layer); });
    return found[0] || null;
  }

  function zonePolygon(ctx, zone) {
    // The zone's feature from a loaded layer, else one request for it (its layer may be switched off).
    var loaded = ctx.zoneFeatures[zone.layer] && ctx.zoneFeatures[zone.layer][zone.id];
    if (loaded) { return Promise.resolve(loaded); }
    var base = ctx.zoneUrls[zone.layer];
    if (!base) { return Promise.resolve(null); }
    var url = withParams(base.replace(/\/+$/, '') + '/' + encodeURIComponent(zone.id), { f: 'json' });
    return fetch(url, { headers: { Accept: 'application/geo+json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; });
  }

  var UNCERTAINTY_STYLE = { color: '#0072B2', weight: 2, dashArray: '6 4', fillOpacity: 0.08, interactive: false };

  function uncertaintyShape(ctx, feature) {
    // Resolves to the area the event may be in: its zone polygon (3, 4) or a circle (2, 5), or null (1).
    var p = feature.properties || {};
    var precision = Number(p.location_precision);
    var latlng = L.GeoJSON.coordsToLatLng(feature.geometry.coordinates);
    var style = Object.assign({ renderer: ctx.renderer }, UNCERTAINTY_STYLE);
    function circle() {
      var radius = PRECISION_RADIUS_M[precision];
      return radius ? L.circle(latlng, Object.assign({ radius: radius, czmapKind: 'circle' }, style)) : null;
    }
    var zone = eventZones(p, precision);
    if (!zone) { return Promise.resolve(circle()); }
    return zonePolygon(ctx, zone).then(function (polygon) {
      if (!polygon || !polygon.geometry) { return circle(); }
      return L.geoJSON(polygon, { czmapKind: 'zone:' + zone.layer + ':' + zone.id, style: function () { return style; } });
    });
  }

  function passesFilters(ctx, p) {
    var types = ctx.state.get('event_type') || [];
    var ver = ctx.state.get('verification') || [];
    return (!types.length || types.indexOf(String(p.event_type)) !== -1) &&
      (!ver.length || ver.indexOf(String(p.verification)) !== -1);
  }

  function showUncertainty(ctx, feature, highlight) {
    highlight.clearLayers();
    var map = ctx.map;
    var token = {};
    highlight._czmapToken = token;
    uncertaintyShape(ctx, feature).then(function (shape) {
      if (highlight._czmapToken !== token) { return; }  // another popup opened meanwhile
      var kind = shape ? (shape.options.czmapKind || 'circle') : 'none';
      if (shape) { highlight.addLayer(shape); }
      map.getContainer().setAttribute('data-uncertainty', kind);
      if (shape && shape.getRadius) { map.getContainer().setAttribute('data-uncertainty-radius', String(shape.getRadius())); }
    });
  }

  function toMarker(ctx, feature, highlight) {
    var p = Object.assign({ id: feature.id }, feature.properties || {});
    if (!feature.geometry || feature.geometry.type !== 'Point') { return null; }
    var latlng = L.GeoJSON.coordsToLatLng(feature.geometry.coordinates);
    var label = [p.place_name, p.date_start, p.event_type].filter(Boolean).join(', ');
    var marker = L.marker(latlng, { icon: eventIcon(p), title: label, alt: label, keyboard: true });
    marker.feature = feature;
    marker.bindPopup(function () { return popupContent(p); }, { maxWidth: 320, autoPanPadding: [20, 20] });
    marker.on('popupopen', function () { showUncertainty(ctx, feature, highlight); });
    marker.on('popupclose', function () {
      highlight._czmapToken = null;
      highlight.clearLayers();
      ctx.map.getContainer().removeAttribute('data-uncertainty');
      ctx.map.getContainer().removeAttribute('data-uncertainty-radius');
    });
    return marker;
  }

  function unmappedItem(feature) {
    var p = Object.assign({ id: feature.id }, feature.properties || {});
    var li = el('li');
    var details = el('details');
    var summary = el('summary');
    summary.appendChild(symbol(p, ' czmap-unlocated'));
    summary.appendChild(document.createTextNode([p.date_start, p.place_name, p.event_type].filter(Boolean).join(', ')));
    details.appendChild(summary);
    details.appendChild(popupContent(p, 'h4'));
    li.appendChild(details);
    return li;
  }

  // Verification colours (as czmap.css), for the rings of clusters.
  var VERIFICATION_COLOURS = {
    verified: '#009E73', corroborated: '#0072B2', reported: '#F0E442', disputed: '#E69F00', retracted: '#999999'
  };

  function clusterIcon(cluster) {
    // A ring split by the verification status of the events inside, the count in the middle.
    var counts = {};
    var children = cluster.getAllChildMarkers();
    children.forEach(function (m) {
      var v = verificationOf((m.feature && m.feature.properties) || {});
      counts[v] = (counts[v] || 0) + 1;
    });
    var stops = [];
    var at = 0;
    VERIFICATION.forEach(function (v) {
      if (!counts[v]) { return; }
      var next = at + 360 * counts[v] / children.length;
      stops.push(VERIFICATION_COLOURS[v] + ' ' + at.toFixed(1) + 'deg ' + next.toFixed(1) + 'deg');
      at = next;
    });
    var n = children.length;
    var size = n < 10 ? 34 : (n < 100 ? 40 : 46);
    var ring = el('div', { 'class': 'czmap-cluster-ring' });
    ring.style.background = 'conic-gradient(' + stops.join(', ') + ')';
    var label = VERIFICATION.filter(function (v) { return counts[v]; })
      .map(function (v) { return counts[v] + ' ' + v; }).join(', ');
    ring.setAttribute('title', n + ' events: ' + label);
    ring.appendChild(el('span', {}, String(n)));
    return L.divIcon({ html: ring, className: 'czmap-cluster', iconSize: L.point(size, size) });
  }

  function plural(count, one, many) { return count + ' ' + (count === 1 ? one : many); }
  czmap.plural = plural;

  czmap.eventLayer = function (ctx, opts) {
    var map = ctx.map;
    var cluster = L.markerClusterGroup({
      czmapId: 'events', chunkedLoading: true, removeOutsideVisibleBounds: true, maxClusterRadius: 50,
      spiderfyOnMaxZoom: true, showCoverageOnHover: false, iconCreateFunction: clusterIcon
    });
    var highlight = L.featureGroup().addTo(map);
    var features = [];
    var loaded = null;
    var controller = null;
    var lastResult = { truncated: false };
    var pending = null;
    var loads = 0;

    function applyPending() {
      if (!pending) { return; }
      features = pending.features;
      lastResult = pending.result;
      pending = null;
      report(lastResult, redraw());
      map.fire('czmap:events', { features: features });
    }

    function redraw() {
      cluster.clearLayers();
      var markers = [];
      var unmapped = [];
      features.forEach(function (f) {
        var p = f.properties || {};
        if (!passesFilters(ctx, p)) { return; }
        if (isUnmapped(p)) { unmapped.push(f); return; }
        var m = toMarker(ctx, f, highlight);
        if (m) { markers.push(m); }
      });
      cluster.addLayers(markers);
      ctx.showUnmapped(unmapped);
      map.getContainer().setAttribute('data-events-shown', String(markers.length));
      map.getContainer().setAttribute('data-events-unmapped', String(unmapped.length));
      return { shown: markers.length, unmapped: unmapped.length };
    }

    function report(result, counts) {
      var text = plural(counts.shown, 'reported event', 'reported events') + ' shown';
      if (counts.unmapped) { text += ', ' + counts.unmapped + ' more without a mappable location (listed below)'; }
      if (result.truncated) {
        var of = result.matched === null ? 'more than ' + result.loaded : String(result.matched);
        text += ' (the first ' + result.loaded + ' of ' + of + ' in view: zoom in for all)';
      }
      ctx.setStatus(text + '.');
    }

    function covered(bounds) {
      return loaded && !loaded.truncated && loaded.datetime === currentDatetime() && loaded.bounds.contains(bounds);
    }

    function currentDatetime() {
      var s = ctx.state.get('start');
      var e = ctx.state.get('end');
      return s === e ? s : s + '/' + e;
    }

    // A view holding more than opts.tilesAbove events is drawn from the event vector tiles (counts per area,
    // each event when zoomed in), not loaded event by event: see showTiles.
    var tiles = null;

    function dense(matched, body) {
      if (!opts.tilesUrl || !L.vectorGrid) { return false; }
      return matched === null ? !!nextLink(body) : matched > opts.tilesAbove;
    }

    function cqlList(name, values) {
      return name + " IN (" + values.map(function (v) { return "'" + String(v).replace(/'/g, "''") + "'"; }).join(', ') + ')';
    }

    function tileFilter() {
      var parts = [];
      var types = ctx.state.get('event_type') || [];
      var ver = ctx.state.get('verification') || [];
      if (types.length) { parts.push(cqlList('event_type', types)); }
      if (ver.length) { parts.push(cqlList('verification', ver)); }
      return parts.join(' AND ');
    }

    function tileStyle(p) {
      var n = Number(p.count) || 1;
      return {
        radius: Math.min(3 + 2.5 * Math.log(n + 1), 22), fill: true, fillColor: '#b2182b', fillOpacity: 0.55,
        color: '#ffffff', weight: 1, opacity: 0.9
      };
    }

    function hideTiles() {
      if (tiles) { map.removeLayer(tiles); tiles = null; }
      map.getContainer().setAttribute('data-events-mode', 'features');
    }

    function showTiles(result, datetime) {
      var query = new URLSearchParams({ datetime: datetime });
      var filter = tileFilter();
      if (filter) { query.set('filter', filter); }
      var url = opts.tilesUrl + '?' + query.toString();
      if (!tiles || tiles._url !== url) {
        hideTiles();
        tiles = L.vectorGrid.protobuf(url, {
          vectorTileLayerStyles: { events: tileStyle }, interactive: false, maxNativeZoom: opts.tilesMaxZoom
        }).addTo(map);
      }
      cluster.clearLayers();
      ctx.showUnmapped([]);
      map.getContainer().setAttribute('data-events-mode', 'tiles');
      map.getContainer().setAttribute('data-events-shown', '0');  // no marker: the tiles draw the events
      var many = result.matched === null ? 'More than ' + opts.tilesAbove : String(result.matched);
      ctx.setStatus(many + ' reported events in view, drawn as counts per area: zoom in to see each one.');
    }

    function load() {
      if (!map.hasLayer(cluster)) { return; }
      var view = map.getBounds();
      if (!tiles && covered(view)) { return; }
      var bounds = view.pad(0.25);
      var bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map(function (x) { return x.toFixed(4); }).join(',');
      var datetime = currentDatetime();
      if (controller) { controller.abort(); }
      controller = new AbortController();
      var next = [];
      ctx.setStatus('Loading reported events…');
      var url = withParams(opts.url, { f: 'json', bbox: bbox, datetime: datetime, limit: opts.pageSize });
      fetchFeatures(url, opts.maxEvents, controller.signal, function (page) { next = next.concat(page); }, dense)
        .then(function (result) {
          if (result.stopped) { loaded = null; showTiles(result, datetime); return; }
          hideTiles();
          loaded = { bounds: bounds, datetime: datetime, truncated: result.truncated };
          loads += 1;
          map.getContainer().setAttribute('data-events-loads', String(loads));
          pending = { features: next, result: result };
          // A reload never closes the popup a reader opened (a tall popup pans the map, which reloads):
          // the new events are drawn when it closes.
          if (!ctx.openPopup) { applyPending(); } else { ctx.setStatus('Updated events are drawn when the popup closes.'); }
        })
        .catch(function (err) { if (err.name !== 'AbortError') { ctx.setStatus('Could not load reported events.'); } });
    }

    ctx.layerControl.addOverlay(cluster, escapeHtml(opts.title));
    ctx.layerControl.addOverlay(highlight, escapeHtml('Location uncertainty of the selected event'));
    ctx.events = cluster;
    cluster.on('add', load);
    cluster.on('remove', function () { ctx.showUnmapped([]); hideTiles(); });
    if (ctx.visible('events')) { cluster.addTo(map); }
    map.on('moveend', load);
    map.on('czmap:datetime', function () { loaded = null; load(); });
    map.on('czmap:filters', function () { if (tiles) { load(); } else { report(lastResult, redraw()); } });
    map.on('czmap:popupclosed', applyPending);
    return cluster;
  };

  // ---------------------------------------------------------------- controls
  function control(position, build) {
    var Ctl = L.Control.extend({ onAdd: function () { var node = build(); stopMapEvents(node); return node; } });
    return new Ctl({ position: position });
  }

  var ICONS = {
    fullscreen: 'M3 9V3h6M15 3h6v6M21 15v6h-6M9 21H3v-6',
    measure: 'M3 17L17 3l4 4L7 21zM7 13l2 2M10 10l2 2M13 7l2 2'
  };

  function icon(name) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '18');
    svg.setAttribute('height', '18');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', ICONS[name]);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2');
    svg.appendChild(path);
    return svg;
  }

  function button(text, label, onClick) {
    var b = el('button', { type: 'button', 'class': 'czmap-button', 'aria-label': label, title: label });
    if (ICONS[text]) { b.appendChild(icon(text)); } else { b.textContent = text; }
    L.DomEvent.on(b, 'click', function (e) { L.DomEvent.preventDefault(e); onClick(b); });
    return b;
  }

  function rangeText(start, end) { return start === end ? start : start + ' to ' + end; }

  czmap.timeControl = function (ctx, opts) {
    return control('topleft', function () {
      var box = el('section', { 'class': 'czmap-panel czmap-time', 'aria-label': 'Dates' });
      var details = el('details');
      if (!ctx.compact && !ctx.small) { details.setAttribute('open', 'open'); }  // small screens: one button
      var summary = el('summary', { 'class': 'czmap-panel-title' });
      function showRange() {
        var range = rangeText(ctx.state.get('start'), ctx.state.get('end'));
        summary.textContent = (ctx.small ? '' : 'Dates: ') + range;
        ctx.map.getContainer().setAttribute('data-dates', range);
      }
      showRange();
      details.appendChild(summary);
      var form = el('form', { 'aria-label': 'Time filter' });
      var inputs = {};
      [['start', 'From'], ['end', 'To']].forEach(function (pair) {
        var id = 'czmap-date-' + pair[0];
        form.appendChild(el('label', { 'for': id }, pair[1]));
        var input = el('input', { id: id, name: pair[0], type: 'date', min: opts.min, max: opts.max, required: 'required' });
        input.value = ctx.state.get(pair[0]);
        form.appendChild(input);
        inputs[pair[0]] = input;
      });
      var status = el('p', { 'class': 'czmap-status', role: 'status', 'aria-live': 'polite' });
      ctx.status = status;

      function apply() {
        var start = inputs.start.value;
        var end = inputs.end.value;
        if (!start || !end) { return; }
        if (start > end) { status.textContent = 'The start date is after the end date.'; return; }
        ctx.state.set({ start: start, end: end });
        showRange();
        ctx.map.fire('czmap:datetime');
      }
      ctx.setDates = function (start, end) {
        inputs.start.value = start;
        inputs.end.value = end;
        apply();
      };
      inputs.start.addEventListener('change', apply);
      inputs.end.addEventListener('change', apply);
      form.addEventListener('submit', function (e) { e.preventDefault(); apply(); });
      form.appendChild(button('Whole war', 'Show the whole war, ' + opts.war[0] + ' to ' + opts.war[1], function () {
        inputs.start.value = opts.war[0];
        inputs.end.value = opts.war[1];
        apply();
      }));
      details.appendChild(form);
      details.appendChild(timeline(ctx, opts));
      box.appendChild(details);
      box.appendChild(status);
      var unmapped = el('details', { 'class': 'czmap-unmapped', hidden: 'hidden' });
      unmapped.appendChild(el('summary'));
      unmapped.appendChild(el('ul'));
      ctx.unmappedBox = unmapped;
      box.appendChild(unmapped);
      return box;
    }).addTo(ctx.map);
  };

  var STEP_MS = 1500;

  function timeline(ctx, opts) {
    // Day by day through the war: events and dated layers together; the URL keeps the day shown.
    var first = opts.war[0];
    var last = opts.war[1];
    var days = Math.round((Date.parse(last) - Date.parse(first)) / 86400000);
    var box = el('div', { 'class': 'czmap-timeline', role: 'group', 'aria-label': 'Timeline, day by day' });
    var slider = el('input', { type: 'range', min: '0', max: String(days), step: '1', id: 'czmap-day',
      'aria-label': 'Day of the war' });
    var output = el('output', { 'for': 'czmap-day', 'class': 'czmap-day', 'aria-live': 'polite' });
    var timer = null;
    function dayIndex(iso) { return Math.round((Date.parse(iso) - Date.parse(first)) / 86400000); }
    function show() {
      var start = ctx.state.get('start');
      var single = start === ctx.state.get('end');
      var index = Math.max(0, Math.min(days, dayIndex(start)));
      slider.value = String(index);
      output.textContent = single ? 'Day ' + (dayIndex(start) + 1) + ': ' + start : 'Whole range';
    }
    function go(index) {
      var day = addDays(first, Math.max(0, Math.min(days, index)));
      ctx.setDates(day, day);
      ctx.map.getContainer().setAttribute('data-timeline-day', day);
      show();
    }
    var play = button('Play', 'Play the war day by day', function () {
      if (timer) { stop(); return; }
      var start = ctx.state.get('start');
      var from = start === ctx.state.get('end') && dayIndex(start) < days ? dayIndex(start) + 1 : 0;
      go(from);
      play.textContent = 'Pause';
      play.setAttribute('aria-pressed', 'true');
      timer = window.setInterval(function () {
        var next = dayIndex(ctx.state.get('start')) + 1;
        if (next > days) { stop(); return; }
        go(next);
      }, STEP_MS);
    });
    play.setAttribute('aria-pressed', 'false');
    function stop() {
      window.clearInterval(timer);
      timer = null;
      play.textContent = 'Play';
      play.setAttribute('aria-pressed', 'false');
    }
    var back = button('\u2039', 'Previous day', function () { stop(); go(dayIndex(ctx.state.get('start')) - 1); });
    var forward = button('\u203a', 'Next day', function () { stop(); go(dayIndex(ctx.state.get('start')) + 1); });
    slider.addEventListener('input', function () { stop(); go(Number(slider.value)); });
    var row = el('div', { 'class': 'czmap-timeline-buttons' });
    [back, play, forward].forEach(function (b) { row.appendChild(b); });
    box.appendChild(row);
    box.appendChild(slider);
    box.appendChild(output);
    ctx.map.on('czmap:datetime', show);
    show();
    return box;
  }

  function checkboxGroup(ctx, legend, key, values, swatch) {
    // One labelled check box per value; all checked means no filter (the URL then omits the key).
    var box = el('fieldset', { 'class': 'czmap-filter-group czmap-filter-' + key });
    box.appendChild(el('legend', {}, legend));
    var chosen = ctx.state.get(key) || [];
    values.forEach(function (value, i) {
      var id = 'czmap-' + key + '-' + i;
      var input = el('input', { id: id, type: 'checkbox', value: value, name: key });
      input.checked = !chosen.length || chosen.indexOf(value) !== -1;
      var label = el('label', { 'for': id, 'data-value': value });
      label.appendChild(input);
      label.appendChild(swatch(value));
      label.appendChild(el('span', {}, value));
      label.appendChild(el('span', { 'class': 'czmap-count' }));
      box.appendChild(label);
      input.addEventListener('change', function () {
        var on = Array.prototype.map.call(box.querySelectorAll('input:checked'), function (x) { return x.value; });
        var patch = {};
        var all = box.querySelectorAll('input');
        patch[key] = on.length === all.length ? [] : on;
        ctx.state.set(patch);
        ctx.map.fire('czmap:filters');
      });
    });
    return box;
  }

  czmap.filterControl = function (ctx, opts) {
    return control('topleft', function () {
      var panel = el('section', { 'class': 'czmap-panel czmap-filters', 'aria-label': 'Event filters' });
      var details = el('details');
      if (!ctx.config.embed && !ctx.small) { details.setAttribute('open', 'open'); }
      details.appendChild(el('summary', {}, 'Filter events'));
      var columns = el('div', { 'class': 'czmap-filter-columns' });
      columns.appendChild(checkboxGroup(ctx, 'Event type', 'event_type', opts.eventTypes || [], function (value) {
        return el('span', { 'class': 'czmap-event czmap-event-' + typeKey(value) + ' czmap-neutral', 'aria-hidden': 'true' });
      }));
      columns.appendChild(checkboxGroup(ctx, 'Verification', 'verification', VERIFICATION, function (value) {
        return el('span', { 'class': 'czmap-event czmap-event-other czmap-ver-' + value, 'aria-hidden': 'true' });
      }));
      details.appendChild(columns);
      panel.appendChild(details);
      ctx.map.on('czmap:events', function (e) { showCounts(columns, e.features); });
      return panel;
    }).addTo(ctx.map);
  };

  function showCounts(columns, features) {
    // Each choice with the number of loaded events it has; choices without any are hidden (unless switched off).
    var counts = { event_type: {}, verification: {} };
    features.forEach(function (f) {
      var p = f.properties || {};
      counts.event_type[String(p.event_type)] = (counts.event_type[String(p.event_type)] || 0) + 1;
      counts.verification[String(p.verification)] = (counts.verification[String(p.verification)] || 0) + 1;
    });
    ['event_type', 'verification'].forEach(function (key) {
      Array.prototype.forEach.call(columns.querySelectorAll('.czmap-filter-' + key + ' label'), function (label) {
        var n = counts[key][label.getAttribute('data-value')] || 0;
        label.querySelector('.czmap-count').textContent = ' (' + n + ')';
        label.hidden = n === 0 && label.querySelector('input').checked;
      });
    });
  }

  function legendItem(ul, swatch, text) {
    var li = el('li');
    li.appendChild(swatch);
    li.appendChild(el('span', {}, text));
    ul.appendChild(li);
    return li;
  }

  function layerSwatch(layer) {
    var swatch = el('span', { 'class': 'czmap-swatch czmap-swatch-' + layer.kind, 'aria-hidden': 'true' });
    swatch.style.borderColor = layer.color;
    if (layer.kind === 'polygon') { swatch.style.backgroundColor = layer.color; }
    if (layer.dash) { swatch.style.borderStyle = 'dashed'; }
    return swatch;
  }

  function controlEntries(ctx, layer, sub) {
    // Who controlled what, as of the day drawn: one entry per controller in the loaded features.
    var seen = {};
    var day = ctx.zoneDays[layer.id] ? ctx.zoneDays[layer.id].day : ctx.state.get('end');
    Object.keys(ctx.zoneFeatures[layer.id] || {}).forEach(function (id) {
      var f = ctx.zoneFeatures[layer.id][id];
      var who = f.properties && f.properties.controlled_by;
      if (!who || seen[who]) { return; }
      seen[who] = true;
      var swatch = el('span', { 'class': 'czmap-swatch czmap-swatch-polygon', 'aria-hidden': 'true' });
      swatch.style.backgroundColor = controlColour(who) || layer.color;
      swatch.style.borderColor = '#333333';
      legendItem(sub, swatch, who + ' (as of ' + day + ')');
    });
  }

  function drawnZones(ctx, layers) {
    // The zone layers on the map with at least one feature on the day drawn, in drawing order.
    return layers.filter(function (layer) {
      var zone = ctx.zoneLayers && ctx.zoneLayers[layer.id];
      return zone && ctx.map.hasLayer(zone) && zone.getLayers().length > 0;
    });
  }

  function eventEntries(ul) {
    ul.appendChild(el('li', { 'class': 'czmap-legend-heading' }, 'Reported events: shape = type'));
    [['battle', 'Battle'], ['explosion', 'Shelling, strike, explosion'], ['civilians', 'Violence against civilians'],
      ['strategic', 'Strategic development'], ['other', 'Other']].forEach(function (pair) {
      legendItem(ul, el('span', { 'class': 'czmap-event czmap-event-' + pair[0] + ' czmap-neutral', 'aria-hidden': 'true' }), pair[1]);
    });
    ul.appendChild(el('li', { 'class': 'czmap-legend-heading' }, 'Fill = verification (clusters: ring)'));
    var fills = el('li', { 'class': 'czmap-legend-fills' });
    VERIFICATION.forEach(function (value) {
      fills.appendChild(el('span', { 'class': 'czmap-event czmap-event-other czmap-ver-' + value, 'aria-hidden': 'true' }));
      fills.appendChild(el('span', {}, value));
    });
    ul.appendChild(fills);
    legendItem(ul, el('span', { 'class': 'czmap-event czmap-event-other czmap-neutral czmap-imprecise', 'aria-hidden': 'true' }),
      'Dashed: approximate location (open it to see the area it may be in)');
    legendItem(ul, el('span', { 'class': 'czmap-event czmap-event-other czmap-unlocated', 'aria-hidden': 'true' }),
      'Known only to the country, or in waters/airspace: not drawn, listed under the dates');
  }

  czmap.legend = function (ctx, opts) {
    // Lists exactly what is drawn: zone layers switched on that have features on the day shown, and the
    // event symbols while events are on. Rebuilt whenever a layer loads, is switched, or the dates change.
    var ul = el('ul');
    var map = ctx.map;
    function render() {
      while (ul.firstChild) { ul.removeChild(ul.firstChild); }
      var drawn = drawnZones(ctx, opts.layers);
      drawn.forEach(function (layer) {
        var when = ctx.zoneDays[layer.id];
        var title = layer.title + (when && when.lastDay ? ' (as on ' + when.day + ', its last day)' : '');
        var item = legendItem(ul, layerSwatch(layer), title);
        item.setAttribute('data-layer', layer.id);
        if (layer.control) {
          var group = el('li', { 'class': 'czmap-legend-group' });
          var sub = el('ul', { 'class': 'czmap-legend-sub' });
          group.appendChild(sub);
          ul.appendChild(group);
          controlEntries(ctx, layer, sub);
        }
      });
      var events = ctx.events && map.hasLayer(ctx.events);
      if (events) { eventEntries(ul); }
      var ids = drawn.map(function (layer) { return layer.id; }).concat(events ? ['events'] : []);
      map.getContainer().setAttribute('data-legend', ids.join(','));
    }
    var frame = null;
    function schedule() { if (frame === null) { frame = window.setTimeout(function () { frame = null; render(); }, 0); } }
    map.on('czmap:zones overlayadd overlayremove czmap:events', schedule);
    return control('topright', function () {
      var box = el('section', { 'class': 'czmap-panel czmap-legend', 'aria-label': 'Legend' });
      var details = el('details');
      if (!ctx.config.embed && !ctx.small) { details.setAttribute('open', 'open'); }
      details.appendChild(el('summary', {}, 'Legend'));
      details.appendChild(ul);
      box.appendChild(details);
      schedule();
      return box;
    }).addTo(map);
  };

  czmap.title = function (ctx, opts) {
    return control('topleft', function () {
      var box = el('div', { 'class': 'czmap-panel czmap-title' });
      box.appendChild(el(opts.embed ? 'h1' : 'h1', { 'class': 'czmap-title-text' }, opts.title));
      if (opts.link) {
        var href = safeUrl(opts.link);
        if (href) { box.appendChild(el('a', { href: href, target: '_blank', rel: 'noopener' }, 'Open the full map')); }
      }
      return box;
    }).addTo(ctx.map);
  };

  czmap.fullscreen = function (ctx) {
    return control('topleft', function () {
      var box = el('div', { 'class': 'leaflet-bar czmap-bar czmap-fullscreen' });
      box.appendChild(button('fullscreen', 'Toggle full screen', function (b) {
        var container = ctx.map.getContainer();
        if (document.fullscreenElement) {
          document.exitFullscreen();
        } else if (container.requestFullscreen) {
          container.requestFullscreen();
        }
        b.setAttribute('aria-pressed', String(!document.fullscreenElement));
      }));
      return box;
    }).addTo(ctx.map);
  };

  czmap.measure = function (ctx) {
    var map = ctx.map;
    var line = L.polyline([], { renderer: ctx.renderer, color: '#0072B2', weight: 3, dashArray: '4 4', interactive: false });
    var active = false;
    var output = el('output', { 'class': 'czmap-measure-output', 'aria-live': 'polite' });

    function total() {
      var pts = line.getLatLngs();
      var metres = 0;
      for (var i = 1; i < pts.length; i++) { metres += map.distance(pts[i - 1], pts[i]); }
      return metres;
    }
    function show() {
      var n = line.getLatLngs().length;
      output.textContent = active ? (n < 2 ? 'Click points on the map' : (total() / 1000).toFixed(1) + ' km') :
        (n > 1 ? (total() / 1000).toFixed(1) + ' km' : '');
    }
    function onClick(e) { line.addLatLng(e.latlng); show(); }
    function toggle(b) {
      active = !active;
      b.setAttribute('aria-pressed', String(active));
      map.getContainer().classList.toggle('czmap-measuring', active);
      if (active) {
        line.setLatLngs([]).addTo(map);
        map.on('click', onClick);
      } else {
        map.off('click', onClick);
      }
      show();
    }
    return control('topleft', function () {
      var box = el('div', { 'class': 'leaflet-bar czmap-bar czmap-measure' });
      var b = button('measure', 'Measure distance: start or stop', toggle);
      b.setAttribute('aria-pressed', 'false');
      box.appendChild(b);
      box.appendChild(output);
      return box;
    }).addTo(map);
  };

  czmap.minimap = function (ctx, opts) {
    var layer;
    if (opts.tiles) {
      layer = L.tileLayer(opts.tiles.url, { attribution: '', maxZoom: opts.tiles.maxZoom });
    } else {
      layer = L.geoJSON(null, {
        style: function (f) {
          var kind = f.properties && f.properties.kind;
          if (kind === 'land') { return { color: '#b8b2a7', weight: 0.5, fillColor: '#f2efe9', fillOpacity: 1 }; }
          if (kind === 'border') { return { color: '#7a6e8a', weight: 0.8 }; }
          if (kind === 'river') { return { color: '#6baed6', weight: 0.8 }; }
          return { color: '#E69F00', weight: 1.5, fillOpacity: 0.25 };
        },
        filter: function (f) { var k = f.properties && f.properties.kind; return !k || k === 'land' || k === 'border' || k === 'river'; }
      });
      // Our own basemap first, then the former oblast on top: the overview works offline.
      var urls = [opts.basemapUrl, opts.outlineUrl].filter(Boolean);
      urls.reduce(function (previous, url) {
        return previous.then(function () {
          return fetchFeatures(withParams(url, { f: 'json', zoom: 6, limit: 1000 }), 1000, undefined, function (page) {
            layer.addData({ type: 'FeatureCollection', features: page });
          });
        });
      }, Promise.resolve()).catch(function () { /* the minimap is decoration; the main map reports errors */ });
    }
    if (!L.Control.MiniMap) { return null; }
    return new L.Control.MiniMap(layer, {
      // our basemap covers the region only: a closer overview than the world-wide tiles need
      toggleDisplay: true, minimized: !!ctx.config.embed || ctx.small, position: 'bottomright',
      zoomLevelOffset: opts.tiles ? -5 : -3,
      strings: { hideText: 'Hide the overview map', showText: 'Show the overview map' }
    }).addTo(ctx.map);
  };

  // ---------------------------------------------------------------- basemaps
  var BASEMAP_STYLE = {
    light: { land: '#f2efe9', border: '#7a6e8a', river: '#6baed6' },
    dark: { land: '#2e2e2e', border: '#a49bb3', river: '#3f7fa8' }
  };

  function offlineBasemap(ctx, opts) {
    // Our own basemap (the built `basemap` layer): land, borders, rivers under the zones; country and place
    // names above them, each place from the zoom its label was given at build time (thinned there).
    var map = ctx.map;
    map.createPane('czmap-basemap').style.zIndex = '250';
    var labelPane = map.createPane('czmap-labels');
    labelPane.style.zIndex = '480';
    labelPane.style.pointerEvents = 'none';
    var colours = document.body.classList.contains('czmap-dark') ? BASEMAP_STYLE.dark : BASEMAP_STYLE.light;
    var renderer = L.canvas({ padding: 0.3, pane: 'czmap-basemap' });
    var shapes = L.geoJSON(null, {
      pane: 'czmap-basemap', interactive: false,
      filter: function (f) { var k = f.properties.kind; return k === 'land' || k === 'border' || k === 'river'; },
      style: function (f) {
        var kind = f.properties.kind;
        if (kind === 'land') { return { renderer: renderer, stroke: false, fillColor: colours.land, fillOpacity: 1 }; }
        if (kind === 'border') { return { renderer: renderer, color: colours.border, weight: 1.3, dashArray: '7 3 2 3' }; }
        return { renderer: renderer, color: colours.river, weight: 1.4 };
      }
    });
    var labels = L.layerGroup();
    var labelMarkers = [];
    var group = L.layerGroup([shapes, labels], { czmapBasemap: 'offline' });
    var loadedZoom = null;

    function label(f) {
      var p = f.properties;
      var country = p.kind === 'country-label';
      var node = el('span', { 'class': country ? 'czmap-label-country' : 'czmap-label-place' });
      if (!country) { node.appendChild(el('span', { 'class': 'czmap-label-dot', 'aria-hidden': 'true' })); }
      node.appendChild(el('span', { 'class': 'czmap-label-text' }, p.name));
      var icon = L.divIcon({ html: node, className: 'czmap-label', iconSize: null, iconAnchor: country ? [0, 0] : [3, 3] });
      var marker = L.marker(L.GeoJSON.coordsToLatLng(f.geometry.coordinates),
        { icon: icon, pane: 'czmap-labels', interactive: false, keyboard: false });
      marker.czmapMinZoom = country ? 0 : Number(p.min_zoom);
      return marker;
    }

    function thin() {
      var zoom = map.getZoom();
      var count = 0;
      labelMarkers.forEach(function (m) {
        var show = m.czmapMinZoom <= zoom;
        if (show && !labels.hasLayer(m)) { labels.addLayer(m); }
        if (!show && labels.hasLayer(m)) { labels.removeLayer(m); }
        if (show) { count += 1; }
      });
      map.getContainer().setAttribute('data-basemap-labels', String(count));
    }

    function load() {
      var zoom = displayZoom(map.getZoom());
      if (zoom === loadedZoom) { thin(); return; }
      loadedZoom = zoom;
      var features = [];
      fetchFeatures(withParams(opts.url, { f: 'json', zoom: zoom, limit: 1000 }), 5000, undefined, function (page) {
        features = features.concat(page);
      }).then(function () {
        shapes.clearLayers();
        shapes.addData({ type: 'FeatureCollection', features: features });
        if (!labelMarkers.length) {
          labelMarkers = features.filter(function (f) {
            return f.properties.kind === 'country-label' || f.properties.kind === 'place-label';
          }).map(label);
        }
        map.getContainer().setAttribute('data-basemap-features', String(features.length));
        thin();
      }).catch(function () { ctx.setStatus('Could not load the basemap.'); });
    }
    // Credited line by line while shown: Leaflet counts each line once, so a source the zones share (Natural
    // Earth) is written once.
    var credits = opts.attributions || [];
    group.on('add', function () {
      loadedZoom = null;
      load();
      map.on('zoomend', load);
      credits.forEach(function (line) { map.attributionControl.addAttribution(line); });
    });
    group.on('remove', function () {
      map.off('zoomend', load);
      credits.forEach(function (line) { map.attributionControl.removeAttribution(line); });
    });
    return group;
  }

  czmap.basemaps = function (ctx, opts) {
    var map = ctx.map;
    var layers = {};
    var names = {};
    if (opts.offline) {
      layers.offline = offlineBasemap(ctx, opts.offline);
      names.offline = opts.offline.title;
    }
    // Tiles are credited only while they are shown (Leaflet adds a layer's attribution on add).
    if (opts.tiles) {
      layers.osm = L.tileLayer(opts.tiles.url, {
        attribution: opts.tiles.attribution, maxZoom: opts.tiles.maxZoom, czmapBasemap: 'osm'
      });
      names.osm = opts.tiles.title;
    }
    layers.none = L.layerGroup([], { czmapBasemap: 'none' });
    names.none = 'No basemap';
    Object.keys(layers).forEach(function (key) { ctx.layerControl.addBaseLayer(layers[key], escapeHtml(names[key])); });
    var container = map.getContainer();
    function mark(key) {
      container.setAttribute('data-basemap', key);
      container.classList.toggle('czmap-basemap-offline', key === 'offline');
    }
    map.on('baselayerchange', function (e) {
      var key = e.layer.options.czmapBasemap;
      if (!key) { return; }
      mark(key);
      ctx.state.set({ basemap: key });
    });
    var initial = layers[opts.initial] ? opts.initial : 'none';
    layers[initial].addTo(map);
    mark(initial);
  };

  window.czmap = czmap;
}());
