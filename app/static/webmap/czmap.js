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

  function fetchFeatures(url, maxFeatures, signal, onPage) {
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
      var small = !!ctx.config.embed && (size.x <= COMPACT.width || size.y <= COMPACT.height);
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

  // ---------------------------------------------------------------- the map context
  czmap.context = function (map, config) {
    var ctx = {
      map: map,
      config: config,
      state: new ViewState(config.view),
      status: null,
      renderer: L.canvas({ padding: 0.3 }),
      zoneUrls: {},
      zoneFeatures: {}
    };
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

  czmap.zoneLayer = function (ctx, opts) {
    var map = ctx.map;
    var style = opts.style || {};
    var pathStyle = {
      color: style.color, weight: style.weight || 1.5, dashArray: style.dash || null,
      fillColor: style.color, fillOpacity: style.fill_opacity || 0, renderer: ctx.renderer
    };
    ctx.zoneUrls[opts.id] = opts.url;
    var layer = L.geoJSON(null, {
      czmapId: opts.id,
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
      if (opts.dated) { params.datetime = ctx.state.get('end'); }
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
          map.getContainer().setAttribute('data-zone-' + opts.id, String(features.length));
          map.fire('czmap:zones', { id: opts.id, features: features });
        })
        .catch(function (err) { if (err.name !== 'AbortError') { ctx.setStatus('Could not load ' + opts.title + '.'); } });
    }

    layer.on('add', load);
    map.on('zoomend', function () { if (map.hasLayer(layer)) { load(); } });
    map.on('czmap:datetime', function () { if (map.hasLayer(layer)) { load(); } });
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

  czmap.eventLayer = function (ctx, opts) {
    var map = ctx.map;
    var cluster = L.markerClusterGroup({
      czmapId: 'events', chunkedLoading: true, removeOutsideVisibleBounds: true, maxClusterRadius: 50,
      spiderfyOnMaxZoom: true, showCoverageOnHover: false
    });
    var highlight = L.featureGroup().addTo(map);
    var features = [];
    var loaded = null;
    var controller = null;
    var lastResult = { truncated: false };

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
      var text = counts.shown + ' reported events shown';
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

    function load() {
      if (!map.hasLayer(cluster)) { return; }
      var view = map.getBounds();
      if (covered(view)) { return; }
      var bounds = view.pad(0.25);
      var bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map(function (x) { return x.toFixed(4); }).join(',');
      var datetime = currentDatetime();
      if (controller) { controller.abort(); }
      controller = new AbortController();
      var next = [];
      ctx.setStatus('Loading reported events…');
      var url = withParams(opts.url, { f: 'json', bbox: bbox, datetime: datetime, limit: opts.pageSize });
      fetchFeatures(url, opts.maxEvents, controller.signal, function (page) { next = next.concat(page); })
        .then(function (result) {
          features = next;
          lastResult = result;
          loaded = { bounds: bounds, datetime: datetime, truncated: result.truncated };
          report(result, redraw());
          map.fire('czmap:events', { features: features });
        })
        .catch(function (err) { if (err.name !== 'AbortError') { ctx.setStatus('Could not load reported events.'); } });
    }

    ctx.layerControl.addOverlay(cluster, escapeHtml(opts.title));
    ctx.layerControl.addOverlay(highlight, escapeHtml('Location uncertainty of the selected event'));
    ctx.events = cluster;
    cluster.on('add', load);
    cluster.on('remove', function () { ctx.showUnmapped([]); });
    if (ctx.visible('events')) { cluster.addTo(map); }
    map.on('moveend', load);
    map.on('czmap:datetime', function () { loaded = null; load(); });
    map.on('czmap:filters', function () { report(lastResult, redraw()); });
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
      if (!ctx.compact) { details.setAttribute('open', 'open'); }  // small embeds: one line until opened
      var summary = el('summary', { 'class': 'czmap-panel-title' });
      function showRange() { summary.textContent = 'Dates: ' + rangeText(ctx.state.get('start'), ctx.state.get('end')); }
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
      inputs.start.addEventListener('change', apply);
      inputs.end.addEventListener('change', apply);
      form.addEventListener('submit', function (e) { e.preventDefault(); apply(); });
      form.appendChild(button('Whole war', 'Show the whole war, ' + opts.war[0] + ' to ' + opts.war[1], function () {
        inputs.start.value = opts.war[0];
        inputs.end.value = opts.war[1];
        apply();
      }));
      details.appendChild(form);
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

  function checkboxGroup(ctx, legend, key, values, swatch) {
    // One labelled check box per value; all checked means no filter (the URL then omits the key).
    var box = el('fieldset', { 'class': 'czmap-filter-group czmap-filter-' + key });
    box.appendChild(el('legend', {}, legend));
    var chosen = ctx.state.get(key) || [];
    values.forEach(function (value, i) {
      var id = 'czmap-' + key + '-' + i;
      var input = el('input', { id: id, type: 'checkbox', value: value, name: key });
      input.checked = !chosen.length || chosen.indexOf(value) !== -1;
      var label = el('label', { 'for': id });
      label.appendChild(input);
      label.appendChild(swatch(value));
      label.appendChild(el('span', {}, value));
      box.appendChild(label);
      input.addEventListener('change', function () {
        var on = Array.prototype.map.call(box.querySelectorAll('input:checked'), function (x) { return x.value; });
        var patch = {};
        patch[key] = on.length === values.length ? [] : on;
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
      if (!ctx.config.embed) { details.setAttribute('open', 'open'); }
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
      return panel;
    }).addTo(ctx.map);
  };

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

  function controlEntries(ctx, layer, item) {
    // Who controlled what, as of the end date: one entry per controller in the loaded features.
    var group = el('li', { 'class': 'czmap-legend-group' });
    var sub = el('ul', { 'class': 'czmap-legend-sub' });
    group.appendChild(sub);
    item.parentNode.insertBefore(group, item.nextSibling);
    ctx.map.on('czmap:zones', function (e) {
      if (e.id !== layer.id) { return; }
      while (sub.firstChild) { sub.removeChild(sub.firstChild); }
      var seen = {};
      e.features.forEach(function (f) {
        var who = f.properties && f.properties.controlled_by;
        if (!who || seen[who]) { return; }
        seen[who] = true;
        var swatch = el('span', { 'class': 'czmap-swatch czmap-swatch-polygon', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = controlColour(who) || layer.color;
        swatch.style.borderColor = '#333333';
        legendItem(sub, swatch, who + ' (as of ' + ctx.state.get('end') + ')');
      });
    });
  }

  czmap.legend = function (ctx, opts) {
    return control('topright', function () {
      var box = el('section', { 'class': 'czmap-panel czmap-legend', 'aria-label': 'Legend' });
      var details = el('details');
      if (!ctx.config.embed) { details.setAttribute('open', 'open'); }
      details.appendChild(el('summary', {}, 'Legend'));
      var ul = el('ul');
      opts.layers.forEach(function (layer) {
        var item = legendItem(ul, layerSwatch(layer), layer.title);
        if (layer.control) { controlEntries(ctx, layer, item); }
      });
      ul.appendChild(el('li', { 'class': 'czmap-legend-heading' }, 'Reported events: shape = type'));
      [['battle', 'Battle'], ['explosion', 'Shelling, strike, explosion'], ['civilians', 'Violence against civilians'],
        ['strategic', 'Strategic development'], ['other', 'Other']].forEach(function (pair) {
        legendItem(ul, el('span', { 'class': 'czmap-event czmap-event-' + pair[0] + ' czmap-neutral', 'aria-hidden': 'true' }), pair[1]);
      });
      ul.appendChild(el('li', { 'class': 'czmap-legend-heading' }, 'Fill = verification'));
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
      details.appendChild(ul);
      box.appendChild(details);
      return box;
    }).addTo(ctx.map);
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
      layer = L.geoJSON(null, { style: function () { return { color: '#E69F00', weight: 1, fillOpacity: 0.2 }; } });
    }
    if (!opts.tiles && opts.outlineUrl) {
      fetchFeatures(withParams(opts.outlineUrl, { f: 'json', zoom: 6, limit: 100 }), 100, undefined, function (page) {
        layer.addData({ type: 'FeatureCollection', features: page });
      }).catch(function () { /* the minimap is decoration; the main map reports errors */ });
    }
    if (!L.Control.MiniMap) { return null; }
    return new L.Control.MiniMap(layer, {
      toggleDisplay: true, minimized: !!ctx.config.embed, position: 'bottomright', zoomLevelOffset: -5,
      strings: { hideText: 'Hide the overview map', showText: 'Show the overview map' }
    }).addTo(ctx.map);
  };

  window.czmap = czmap;
}());
