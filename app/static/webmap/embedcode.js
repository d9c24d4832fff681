/* The embed page: every change asks the server for the snippet (/embed/code?f=json), which escapes it, and
 * points the preview at the same view. Nothing here builds HTML from the form's values. */
(function () {
  'use strict';
  var form = document.getElementById('embed-options');
  var preview = document.getElementById('preview');
  var box = document.getElementById('preview-box');
  var snippet = document.getElementById('snippet');
  var error = document.getElementById('embed-error');
  var copyStatus = document.getElementById('copy-status');
  var timer = null;
  var request = 0;

  function params() {
    var q = new URLSearchParams();
    ['lat', 'lon', 'zoom'].forEach(function (key) { q.set(key, form.dataset[key]); });
    var title = form.elements.title.value.trim();
    if (title) { q.set('title', title); }
    var start = form.elements.start.value;
    var end = form.elements.end.value;
    if (start && end) { q.set('datetime', start === end ? start : start + '/' + end); }
    var layers = Array.prototype.filter.call(form.querySelectorAll('input[name="layers"]'), function (x) { return x.checked; })
      .map(function (x) { return x.value; });
    q.set('layers', layers.length ? layers.join(',') : 'none');
    if (form.dataset.eventType) { q.set('event_type', form.dataset.eventType); }
    if (form.dataset.verification) { q.set('verification', form.dataset.verification); }
    q.set('basemap', form.querySelector('input[name="basemap"]:checked').value);
    if (form.elements.dark.checked) { q.set('dark', 'true'); }
    q.set('width', form.elements.width.value);
    q.set('height', form.elements.height.value);
    q.set('variant', form.querySelector('input[name="variant"]:checked').value);
    if (form.querySelector('input[name="size"]:checked').value === 'responsive') { q.set('responsive', 'true'); }
    return q;
  }

  function sizePreview(q) {
    var width = Number(q.get('width'));
    var height = Number(q.get('height'));
    var responsive = q.get('responsive') === 'true';
    box.classList.toggle('responsive', responsive);
    box.style.paddingTop = responsive ? (100 * height / width).toFixed(2) + '%' : '';
    preview.width = String(width);
    preview.height = String(height);
  }

  function update() {
    var q = params();
    var mine = ++request;
    q.set('f', 'json');
    fetch('/embed/code?' + q.toString(), { headers: { Accept: 'application/json' } })
      .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (result) {
        if (mine !== request) { return; }
        if (!result.ok) {
          error.textContent = 'Cannot embed this: ' + (result.body.parameter ? result.body.parameter + ': ' : '') +
            result.body.description;
          error.hidden = false;
          return;
        }
        error.hidden = true;
        snippet.value = result.body.html;
        sizePreview(q);
        if (preview.getAttribute('src') !== result.body.preview) { preview.setAttribute('src', result.body.preview); }
        q.delete('f');
        window.history.replaceState(null, '', window.location.pathname + '?' + q.toString());
      })
      .catch(function () { if (mine === request) { error.textContent = 'The server did not answer.'; error.hidden = false; } });
  }

  form.addEventListener('input', function () { window.clearTimeout(timer); timer = window.setTimeout(update, 250); });
  form.addEventListener('change', function () { window.clearTimeout(timer); timer = window.setTimeout(update, 50); });
  form.addEventListener('submit', function (e) { e.preventDefault(); update(); });

  document.getElementById('copy').addEventListener('click', function () {
    var selected = 'Selected: press Ctrl+C to copy.';
    function done(text) { copyStatus.textContent = text; }
    if (navigator.clipboard && window.isSecureContext) {
      // The clipboard answers later (or asks the reader's permission): the status is set when it does.
      navigator.clipboard.writeText(snippet.value).then(function () { done('Copied.'); }, function () {
        snippet.select(); done(selected);
      });
    } else {
      snippet.select();
      done(document.execCommand && document.execCommand('copy') ? 'Copied.' : selected);
    }
  });
  sizePreview(params());
}());
