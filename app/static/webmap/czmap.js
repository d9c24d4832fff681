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
  var PRECISION = {
    1: 'exact location',
    2: 'within about 25 km of the point',
    3: 'somewhere in the district (second-order division)',
    4: 'somewhere in the province or region (first-order division)',
    5: 'along a line (border, river, road) or between places',
    6: 'only the country is known',
    7: 'international waters or airspace'
  };
  // Radius in metres drawn when no polygon is known for the stated precision.
  var PRECISION_RADIUS_M = { 1: 0, 2: 25000, 3: 40000, 4: 80000, 5: 25000 };

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
          return { loaded: total, matched: matched === null ? total : matched, truncated: !!next && total >= maxFeatures };
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

  // ---------------------------------------------------------------- the map context
  czmap.context = function (map, config) {
    var ctx = {
      map: map,
      config: config,
      state: new ViewState(config.view),
      status: null,
      renderer: L.canvas({ padding: 0.3 })
    };
    map.getContainer().setAttribute('role', 'region');
    map.getContainer().setAttribute('aria-label', config.label);
    map.attributionControl.setPrefix(false);
    (config.attributions || []).forEach(function (html) { map.attributionControl.addAttribution(html); });
    ctx.layerControl = L.control.layers(null, null, { collapsed: config.embed, position: 'topright' }).addTo(map);
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
    ctx.visible = function (id) { return ctx.state.get('layers').indexOf(id) !== -1; };
    ctx.state.write();
    map._czmap = ctx;
    return ctx;
  };

  // ---------------------------------------------------------------- zone layers
  czmap.zoneLayer = function (ctx, opts) {
    var map = ctx.map;
    var style = opts.style || {};
    var pathStyle = {
      color: style.color, weight: style.weight || 1.5, dashArray: style.dash || null,
      fillColor: style.color, fillOpacity: style.fill_opacity || 0, renderer: ctx.renderer
    };
    var layer = L.geoJSON(null, {
      czmapId: opts.id,
      style: function () { return pathStyle; },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, Object.assign({}, pathStyle, { radius: style.radius || 3, fillOpacity: 0.8 }));
      },
      onEachFeature: function (feature, featureLayer) {
        var p = feature.properties || {};
        var name = p.name || p.id || opts.title;
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
          map.getContainer().setAttribute('data-zone-' + opts.id, String(features.length));
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

  function eventIcon(p) {
    var key = typeKey(p.event_type);
    var verification = VERIFICATION.indexOf(p.verification) === -1 ? 'reported' : p.verification;
    var precise = Number(p.location_precision) === 1;
    var node = el('span', {
      'class': 'czmap-event czmap-event-' + key + ' czmap-ver-' + verification + (precise ? '' : ' czmap-imprecise'),
      'aria-hidden': 'true'
    });
    return L.divIcon({ html: node, className: 'czmap-event-icon', iconSize: [22, 22], iconAnchor: [11, 11] });
  }

  function dateText(p) {
    var start = p.date_start || '';
    var end = p.date_end || start;
    var text = start === end ? start : start + ' to ' + end;
    return p.date_precision ? text + ' (precision: ' + p.date_precision + ')' : text;
  }

  function row(dl, term, value) {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) { return; }
    dl.appendChild(el('dt', {}, term));
    dl.appendChild(el('dd', {}, Array.isArray(value) ? value.join(', ') : value));
  }

  function fatalities(p) {
    if (p.fatalities_best === undefined || p.fatalities_best === null) { return null; }
    var text = String(p.fatalities_best);
    if (p.fatalities_low !== undefined && p.fatalities_low !== null) {
      text += ' (range ' + p.fatalities_low + ' to ' + p.fatalities_high + ')';
    }
    return text;
  }

  function sourcesList(sources) {
    var ul = el('ul', { 'class': 'czmap-sources' });
    (Array.isArray(sources) ? sources : []).forEach(function (s) {
      if (!s || typeof s !== 'object') { return; }
      var li = el('li');
      var label = [s.publisher, s.title].filter(Boolean).join(': ') || s.url || 'source';
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

  function popupContent(p) {
    var box = el('article', { 'class': 'czmap-popup' });
    box.appendChild(el('h3', {}, p.place_name || 'Unnamed place'));
    var dl = el('dl');
    row(dl, 'Date', dateText(p));
    row(dl, 'Type', [p.event_type, p.sub_event_type].filter(Boolean).join(': '));
    row(dl, 'Actors', list(p.actors));
    row(dl, 'Reported by', list(p.claimed_by));
    row(dl, 'Status', p.verification);
    row(dl, 'Location', PRECISION[Number(p.location_precision)] || 'precision not stated');
    row(dl, 'Fatalities', fatalities(p));
    row(dl, 'Notes', p.notes);
    box.appendChild(dl);
    if (Array.isArray(p.sources) && p.sources.length) {
      box.appendChild(el('h4', {}, 'Sources'));
      box.appendChild(sourcesList(p.sources));
    }
    return box;
  }
  czmap.popupContent = popupContent;

  function zoneFeature(ctx, zones) {
    // The polygon of the first zone named by the event that a loaded zone layer holds (districts first).
    var wanted = list(zones);
    var found = null;
    ctx.map.eachLayer(function (layer) {
      if (found || !layer.feature || !layer.feature.properties) { return; }
      var props = layer.feature.properties;
      if (wanted.indexOf(String(props.id)) !== -1 || wanted.indexOf(String(props.name)) !== -1) {
        if (layer.getLatLngs) { found = layer.feature; }
      }
    });
    return found;
  }

  function uncertaintyShape(ctx, feature) {
    var p = feature.properties || {};
    var precision = Number(p.location_precision);
    var latlng = L.GeoJSON.coordsToLatLng(feature.geometry.coordinates);
    var style = { renderer: ctx.renderer, color: '#0072B2', weight: 2, dashArray: '6 4', fillOpacity: 0.08, interactive: false };
    if (precision === 3 || precision === 4) {
      var zone = zoneFeature(ctx, p.zones);
      if (zone) { return L.geoJSON(zone, { style: function () { return style; } }); }
    }
    var radius = PRECISION_RADIUS_M[precision];
    return radius ? L.circle(latlng, Object.assign({ radius: radius }, style)) : null;
  }

  function passesFilters(ctx, p) {
    var types = ctx.state.get('event_type') || [];
    var ver = ctx.state.get('verification') || [];
    return (!types.length || types.indexOf(String(p.event_type)) !== -1) &&
      (!ver.length || ver.indexOf(String(p.verification)) !== -1);
  }

  function toMarker(ctx, feature, highlight) {
    var p = feature.properties || {};
    if (!feature.geometry || feature.geometry.type !== 'Point') { return null; }
    var latlng = L.GeoJSON.coordsToLatLng(feature.geometry.coordinates);
    var label = [p.place_name, p.date_start, p.event_type].filter(Boolean).join(', ');
    var marker = L.marker(latlng, { icon: eventIcon(p), title: label, alt: label, keyboard: true });
    marker.bindPopup(function () { return popupContent(p); }, { maxWidth: 320, autoPanPadding: [20, 20] });
    marker.on('popupopen', function () {
      highlight.clearLayers();
      var shape = uncertaintyShape(ctx, feature);
      if (shape) { highlight.addLayer(shape); }
    });
    marker.on('popupclose', function () { highlight.clearLayers(); });
    return marker;
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

    function redraw() {
      cluster.clearLayers();
      var markers = [];
      features.forEach(function (f) {
        if (!passesFilters(ctx, f.properties || {})) { return; }
        var m = toMarker(ctx, f, highlight);
        if (m) { markers.push(m); }
      });
      cluster.addLayers(markers);
      map.getContainer().setAttribute('data-events-shown', String(markers.length));
      return markers.length;
    }

    function report(result, shown) {
      var text = shown + ' reported events shown';
      if (result.truncated) { text += ' (the first ' + result.loaded + ' of ' + result.matched + ' in view: zoom in for all)'; }
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
    if (ctx.visible('events')) { cluster.addTo(map); }
    map.on('moveend', load);
    map.on('czmap:datetime', function () { loaded = null; load(); });
    map.on('czmap:filters', function () { report({ truncated: false }, redraw()); });
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

  czmap.timeControl = function (ctx, opts) {
    return control('topleft', function () {
      var form = el('form', { 'class': 'czmap-panel czmap-time', 'aria-label': 'Time filter' });
      form.appendChild(el('h2', { 'class': 'czmap-panel-title' }, 'Dates'));
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
      form.appendChild(status);
      return form;
    }).addTo(ctx.map);
  };

  czmap.filterControl = function (ctx, opts) {
    return control('topleft', function () {
      var box = el('fieldset', { 'class': 'czmap-panel czmap-filters' });
      box.appendChild(el('legend', {}, 'Verification'));
      var chosen = ctx.state.get('verification') || [];
      VERIFICATION.forEach(function (value) {
        var id = 'czmap-ver-' + value;
        var input = el('input', { id: id, type: 'checkbox', value: value });
        input.checked = !chosen.length || chosen.indexOf(value) !== -1;
        var label = el('label', { 'for': id });
        label.appendChild(input);
        label.appendChild(el('span', { 'class': 'czmap-event czmap-event-other czmap-ver-' + value, 'aria-hidden': 'true' }));
        label.appendChild(document.createTextNode(' ' + value));
        box.appendChild(label);
        input.addEventListener('change', function () {
          var on = Array.prototype.filter.call(box.querySelectorAll('input:checked'), function () { return true; })
            .map(function (x) { return x.value; });
          ctx.state.set({ verification: on.length === VERIFICATION.length ? [] : on });
          ctx.map.fire('czmap:filters');
        });
      });
      return box;
    }).addTo(ctx.map);
  };

  czmap.legend = function (ctx, opts) {
    return control('bottomright', function () {
      var box = el('section', { 'class': 'czmap-panel czmap-legend', 'aria-label': 'Legend' });
      var details = el('details');
      if (!ctx.config.embed) { details.setAttribute('open', 'open'); }
      details.appendChild(el('summary', {}, 'Legend'));
      var ul = el('ul');
      opts.layers.forEach(function (layer) {
        var li = el('li');
        var swatch = el('span', { 'class': 'czmap-swatch czmap-swatch-' + layer.kind, 'aria-hidden': 'true' });
        swatch.style.borderColor = layer.color;
        if (layer.kind === 'polygon') { swatch.style.backgroundColor = layer.color; }
        if (layer.dash) { swatch.style.borderStyle = 'dashed'; }
        li.appendChild(swatch);
        li.appendChild(el('span', {}, layer.title));
        ul.appendChild(li);
      });
      [['battle', 'Battle'], ['explosion', 'Shelling, strike, explosion'], ['civilians', 'Violence against civilians'],
        ['strategic', 'Strategic development'], ['other', 'Other']].forEach(function (pair) {
        var li = el('li');
        li.appendChild(el('span', { 'class': 'czmap-event czmap-event-' + pair[0], 'aria-hidden': 'true' }));
        li.appendChild(el('span', {}, pair[1]));
        ul.appendChild(li);
      });
      var li = el('li');
      li.appendChild(el('span', { 'class': 'czmap-event czmap-event-other czmap-imprecise', 'aria-hidden': 'true' }));
      li.appendChild(el('span', {}, 'Approximate location (open the event to see the area)'));
      ul.appendChild(li);
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
      toggleDisplay: true, minimized: !!ctx.config.embed, position: 'bottomleft', zoomLevelOffset: -5,
      strings: { hideText: 'Hide the overview map', showText: 'Show the overview map' }
    }).addTo(ctx.map);
  };

  window.czmap = czmap;
}());
