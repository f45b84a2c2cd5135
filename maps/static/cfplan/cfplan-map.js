/* cfplan map: layers, grouped layer control, target selector, search and panels.
 * Part of cfplan (MIT). Data text is only ever set as textContent, never parsed as HTML;
 * the only HTML strings inserted are the panels cfplan's Python side escapes itself.
 */
(function () {
  "use strict";
  var cf = (window.cfplan = {});

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  cf.el = el;

  function empty(v) {
    return v === undefined || v === null || v === "";
  }

  // A popup: a bold title and a two-column table; a value may be a list of lines.
  function popupBox(title, rows) {
    var box = el("div", "cf-pop-box");
    box.appendChild(el("b", "cf-pop-title", title));
    var table = el("table", "cf-pop");
    rows.forEach(function (r) {
      if (empty(r[1]) || (Array.isArray(r[1]) && !r[1].length)) return;
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      var td = el("td");
      if (Array.isArray(r[1])) {
        r[1].forEach(function (line) { td.appendChild(el("div", "cf-line", line)); });
      } else {
        td.textContent = String(r[1]);
      }
      tr.appendChild(td);
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }
  cf.popup = popupBox;

  // A control's container: clicks and wheel turns stay in it (the map does not pan or zoom).
  function controlBox(id, cls) {
    var box = el("div", "cf-box leaflet-control " + cls);
    box.id = id;
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  }

  // A collapsible control: a header button that folds its body.
  function foldingBox(id, cls, title, collapsed) {
    var box = controlBox(id, cls);
    var head = el("button", "cf-box-head", title);
    head.type = "button";
    L.DomEvent.on(head, "click", function () { box.classList.toggle("cf-collapsed"); });
    var body = el("div", "cf-box-body");
    box.appendChild(head);
    box.appendChild(body);
    if (collapsed) box.classList.add("cf-collapsed");
    return {box: box, body: body};
  }

  var icons = {};
  // A round glyph marker: the kind's colour, solid when built, dashed when pending.
  cf.icon = function (glyph, pending) {
    var key = glyph.symbol + glyph.color + (pending ? "1" : "0");
    if (!icons[key]) {
      var fill = pending ? "#fff" : glyph.color, ink = pending ? glyph.color : "#fff";
      var style = pending ? "dashed" : "solid";
      icons[key] = L.divIcon({
        className: "cf-marker",
        html: "<div class='cf-ico' style='background:" + fill + ";color:" + ink +
          ";border:2px " + style + " " + glyph.color + "'>" + glyph.symbol + "</div>",
        iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10]
      });
    }
    return icons[key];
  };

  function bindText(layer, props) {
    if (!empty(props.n)) {
      layer.bindTooltip(function () { return el("span", null, props.n); }, {sticky: true});
    }
    if (props.r) {
      layer.bindPopup(function () { return popupBox(props.n || "", props.r); }, {maxWidth: 380});
    }
  }

  // A GeoJSON layer: per-feature style in properties.s, name in .n, popup rows in .r;
  // points are glyph markers (spec.glyph) or circle markers.
  cf.geo = function (spec) {
    return L.geoJSON(spec.data, {
      style: function (f) { return L.extend({}, spec.style || {}, f.properties.s || {}); },
      pointToLayer: function (f, latlng) {
        if (spec.glyph) {
          return L.marker(latlng, {icon: cf.icon(spec.glyph, f.properties.d), n: f.properties.n});
        }
        return L.circleMarker(latlng, L.extend({radius: 6}, spec.style || {}, f.properties.s || {}));
      },
      onEachFeature: function (f, layer) { bindText(layer, f.properties); }
    });
  };

  // A layer built the first time it is shown (for layers that start hidden).
  cf.lazy = function (make) {
    var group = L.layerGroup(), built = null, onAdd = group.onAdd;
    group.onAdd = function (map) {
      if (!built) { built = make(); group.addLayer(built); }
      return onAdd.call(this, map);
    };
    return group;
  };

  // Facilities: one marker cluster for every kind, one sub-group per kind.
  // spec.kinds: [{key, label, glyph, rows: [[lon, lat, name, fid, status, year, cf, cap, unit,
  // pending]]}]; spec.cols: popup labels; spec.statuses, spec.units, spec.yesno: lookups.
  cf.facilities = function (map, spec) {
    var cluster = L.markerClusterGroup(L.extend({
      showCoverageOnHover: false, spiderfyOnMaxZoom: true, maxClusterRadius: 45,
      disableClusteringAtZoom: 16, chunkedLoading: true,
      iconCreateFunction: function (c) {
        var n = c.getChildCount(), size = n < 10 ? 30 : n < 100 ? 36 : 44;
        return L.divIcon({html: "<div><span>" + n + "</span></div>", className: "cf-cluster",
                          iconSize: [size, size]});
      }
    }, spec.cluster || {}));
    cluster.addTo(map);
    var layers = {};
    spec.kinds.forEach(function (kind) {
      var markers = kind.rows.map(function (row) {
        var m = L.marker([row[1], row[0]], {icon: cf.icon(kind.glyph, row[9]), n: row[2]});
        var rows = [
          [spec.cols[0], kind.label], [spec.cols[1], row[3]],
          [spec.cols[2], spec.statuses[row[4]]], [spec.cols[3], row[5]],
          [spec.cols[4], row[6] === null ? null : spec.yesno[row[6]]], [spec.cols[5], row[7]],
          [spec.cols[6], row[8] === null ? spec.noUnit : spec.units[row[8]]]
        ];
        m.bindPopup(function () { return popupBox(row[2], rows); }, {maxWidth: 380});
        m.bindTooltip(function () { return el("span", null, row[2]); });
        return m;
      });
      var sub = L.featureGroup.subGroup(cluster, markers);
      markers.forEach(function (m) { m._cfEntry = sub; });
      layers[kind.key] = sub;
    });
    return {cluster: cluster, layers: layers};
  };

  // Units (or subdistricts) coloured by the status of a selected target.
  // Properties: n name, r popup rows, t status string (per target, per scenario: M met,
  // N not met, U unknown, - not counted), a {target index: [share now, share planned]}.
  cf.status = {};
  cf.statusLayer = function (spec) {
    var layer = cf.geo({data: spec.data, style: spec.style});
    cf.status[spec.level] = layer;
    layer.cfSelect = function (ti, si, active) {
      layer.eachLayer(function (l) {
        var p = l.feature.properties, ch = active ? p.t.charAt(ti * 2 + si) : "-";
        l.setStyle({fillColor: spec.colors[ch] || spec.colors["-"],
                    fillOpacity: ch === "-" ? (active ? 0.08 : 0.0) : 0.55});
      });
    };
    layer.eachLayer(function (l) {
      var p = l.feature.properties;
      l.unbindPopup();
      l.bindPopup(function () {
        var rows = p.r.slice();
        var sel = cf.selected;
        if (sel && sel.level === spec.level) {
          var ch = p.t.charAt(sel.ti * 2 + sel.si);
          var line = spec.targets[sel.ti].label + " · " + spec.words[ch];
          if (p.a && p.a[sel.ti]) line += " · " + p.a[sel.ti][sel.si];
          rows.unshift([spec.selectedWord, line]);
        }
        spec.scenarios.forEach(function (sc, si) {
          var lines = [];
          spec.targets.forEach(function (t, ti) {
            if (t.level !== spec.level) return;
            var ch = p.t.charAt(ti * 2 + si);
            if (ch === "N") lines.push(t.label);
            if (ch === "U") lines.push(t.label + " (" + spec.words.U + ")");
          });
          rows.push([sc.fails, lines.length ? lines : spec.none]);
        });
        return popupBox(p.n, rows);
      }, {maxWidth: 420, autoPanPaddingTopLeft: [420, 20], autoPanPaddingBottomRight: [300, 20]});
    });
    return layer;
  };

  // The target selector: a list of per-unit targets and the scenario.
  cf.selector = function (map, spec) {
    var Ctl = L.Control.extend({
      onAdd: function () {
        var box = controlBox("cf-selector", "cf-selector");
        box.appendChild(el("div", "cf-box-title", spec.title));
        var select = el("select", "cf-select");
        select.id = "cf-target";
        spec.targets.forEach(function (t, i) {
          var o = el("option", null, t.label);
          o.value = String(i);
          o.title = t.label;
          select.appendChild(o);
        });
        select.value = String(spec.initial);
        box.appendChild(select);
        var radios = el("div", "cf-scen");
        spec.scenarios.forEach(function (s, i) {
          var lab = el("label");
          var r = el("input");
          r.type = "radio"; r.name = "cf-scenario"; r.value = String(i); r.checked = i === 0;
          r.id = "cf-scenario-" + s.key;
          lab.appendChild(r);
          lab.appendChild(document.createTextNode(" " + s.label));
          radios.appendChild(lab);
        });
        box.appendChild(radios);
        var apply = function () {
          var ti = parseInt(select.value, 10);
          var si = parseInt(box.querySelector("input[name=cf-scenario]:checked").value, 10);
          var t = spec.targets[ti];
          cf.selected = {ti: ti, si: si, level: t.level};
          spec.layers.forEach(function (entry) {
            entry.layer.cfSelect(ti, si, entry.level === t.level);
          });
          var legend = document.getElementById("cf-legend-target");
          if (legend) legend.textContent = t.label + " · " + spec.scenarios[si].label;
          map.fire("cfplan:target", cf.selected);
        };
        L.DomEvent.on(select, "change", apply);
        radios.querySelectorAll("input").forEach(function (r) { L.DomEvent.on(r, "change", apply); });
        setTimeout(apply, 0);
        return box;
      }
    });
    return new Ctl({position: "topright"}).addTo(map);
  };

  // Grouped layer control: one header per group with a checkbox that toggles the whole group
  // (indeterminate when mixed), one line per layer; radio lines for basemaps.
  cf.layerControl = function (map, spec) {
    var inputs = [];
    var Ctl = L.Control.extend({
      onAdd: function () {
        var fold = foldingBox("cf-layers", "cf-layers", spec.title, spec.collapsed);
        var box = fold.box, body = fold.body;
        spec.groups.forEach(function (g, gi) {
          if (!g.layers.length) return;
          var group = el("div", "cf-group");
          group.setAttribute("data-group", g.key);
          var gh = el("label", "cf-group-head");
          var gcb = el("input");
          gcb.type = "checkbox";
          gcb.className = "cf-group-toggle";
          gh.appendChild(gcb);
          gh.appendChild(document.createTextNode(" " + g.label));
          group.appendChild(gh);
          var members = [];
          g.layers.forEach(function (entry, li) {
            var lab = el("label", "cf-layer");
            var inp = el("input");
            inp.type = entry.radio ? "radio" : "checkbox";
            if (entry.radio) inp.name = "cf-base-" + gi;
            inp.checked = !!entry.show;
            lab.appendChild(inp);
            lab.appendChild(document.createTextNode(" " + entry.name));
            group.appendChild(lab);
            var item = {input: inp, entry: entry, group: gcb, members: members};
            members.push(item);
            inputs.push(item);
            if (entry.show && entry.layer && !map.hasLayer(entry.layer)) map.addLayer(entry.layer);
            if (!entry.show && entry.layer && map.hasLayer(entry.layer)) map.removeLayer(entry.layer);
            L.DomEvent.on(inp, "change", function () {
              if (entry.radio) {
                members.forEach(function (m) {
                  if (m.entry.layer && m !== item) map.removeLayer(m.entry.layer);
                });
              }
              if (entry.layer) {
                if (inp.checked) map.addLayer(entry.layer); else map.removeLayer(entry.layer);
              }
              sync();
            });
          });
          L.DomEvent.on(gcb, "change", function () {
            members.forEach(function (m) {
              if (m.entry.radio) return;
              m.input.checked = gcb.checked;
              if (gcb.checked) map.addLayer(m.entry.layer); else map.removeLayer(m.entry.layer);
            });
            sync();
          });
          body.appendChild(group);
        });
        return box;
      }
    });
    function sync() {
      inputs.forEach(function (item) {
        if (item.entry.layer) item.input.checked = map.hasLayer(item.entry.layer);
        var boxes = item.members.filter(function (m) { return !m.entry.radio; });
        var on = boxes.filter(function (m) { return m.input.checked; }).length;
        item.group.checked = boxes.length > 0 && on === boxes.length;
        item.group.indeterminate = on > 0 && on < boxes.length;
        item.group.disabled = boxes.length === 0;
      });
    }
    var ctl = new Ctl({position: "topright"}).addTo(map);
    sync();
    // Keep the boxes in step when something else (the search) shows an entry's layer. Only
    // entry layers count, and one sync per burst: a cluster adds thousands of markers.
    var entries = inputs.filter(function (i) { return i.entry.layer; })
      .map(function (i) { return L.stamp(i.entry.layer); });
    var pending = false;
    map.on("layeradd layerremove", function (e) {
      if (pending || entries.indexOf(L.stamp(e.layer)) < 0) return;
      pending = true;
      setTimeout(function () { pending = false; sync(); }, 0);
    });
    ctl.cfSync = sync;
    return ctl;
  };

  // A panel of escaped HTML (built by cfplan in Python) in a collapsible Leaflet control.
  cf.panel = function (map, spec) {
    var Ctl = L.Control.extend({
      onAdd: function () {
        var fold = foldingBox(spec.id, spec.cls, spec.title, spec.collapsed);
        fold.body.innerHTML = spec.html;  // escaped by cfplan.maps (esc)
        return fold.box;
      }
    });
    return new Ctl({position: spec.position}).addTo(map);
  };

  // Search by facility, unit or subdistrict name (leaflet-search over the given layers).
  cf.search = function (map, spec) {
    var source = {
      addTo: function () { return this; },
      eachLayer: function (fn) {
        spec.layers.forEach(function (l) { l.eachLayer(fn); });
      }
    };
    var ctl = new L.Control.Search({
      layer: source, propertyName: "n", initial: false, marker: false, zoom: 17,
      position: "topleft", textPlaceholder: spec.placeholder, textErr: spec.notFound,
      textCancel: spec.cancel, autoCollapse: false, collapsed: true,
      buildTip: function (text) { var li = el("li", null, text); return li; },
      moveToLocation: function (latlng, title, m) {
        var layer = latlng.layer;
        if (layer && layer._cfEntry) {
          var entry = layer._cfEntry._cfEntryGroup || layer._cfEntry;
          if (!m.hasLayer(entry)) m.addLayer(entry);
          spec.cluster.zoomToShowLayer(layer, function () { layer.openPopup(); });
        } else if (layer && layer.getBounds) {
          m.fitBounds(layer.getBounds(), {maxZoom: 16});
          layer.openPopup(layer.getBounds().getCenter());
        } else {
          m.setView(latlng, 17);
        }
      }
    });
    map.addControl(ctl);
    cf.searchControl = ctl;
    return ctl;
  };
})();
