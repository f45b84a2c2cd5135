/* cfplan map: layers, grouped layer control, target selector, identify popups, search, legend.
 * Part of cfplan (MIT). Data text is only ever set as textContent, never parsed as HTML;
 * the only HTML string inserted is the targets panel, which cfplan's Python side escapes.
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

  function pct(v) {
    return (v * 100).toFixed(1) + "%";
  }

  // A popup page: a bold title and a two-column table; a value may be a list of lines.
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

  // Panes: fills under the units, outlines and labels above them. Nothing in the upper
  // panes takes the pointer: a click goes to the map, which finds every feature under it.
  cf.panes = function (map) {
    [["cf-low", 380], ["cf-top", 440], ["cf-labels", 460]].forEach(function (p) {
      var pane = map.createPane(p[0]);
      pane.style.zIndex = String(p[1]);
      pane.style.pointerEvents = "none";
    });
    map.on("zoomend", function () { zoomClass(map); });
    zoomClass(map);
    return null;
  };
  function zoomClass(map) {
    var c = map.getContainer(), z = map.getZoom();
    c.classList.toggle("cf-z12", z >= 12);
    c.classList.toggle("cf-z14", z >= 14);
  }

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
    head.setAttribute("aria-expanded", collapsed ? "false" : "true");
    L.DomEvent.on(head, "click", function () {
      box.classList.toggle("cf-collapsed");
      head.setAttribute("aria-expanded", box.classList.contains("cf-collapsed") ? "false" : "true");
    });
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
      var div = el("div", "cf-ico", glyph.symbol);
      div.style.background = fill;
      div.style.color = ink;
      div.style.border = "2px " + style + " " + glyph.color;
      icons[key] = L.divIcon({
        className: "cf-marker", html: div.outerHTML,
        iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10]
      });
    }
    return icons[key];
  };

  // ------------------------------------------------------------------ identify
  // Every layer whose features have popup rows registers here; a click anywhere on the map
  // (or on a marker) collects every feature under the pointer, top first, and the popup pages
  // through them (‹ 1/3 ›).
  var pickers = [];
  cf.pickers = pickers;

  function register(layer, order, pages) {
    pickers.push({layer: layer, order: order, pages: pages});
  }

  function ringContains(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) inside = !inside;
    }
    return inside;
  }
  function polygonContains(rings, x, y) {
    if (!ringContains(rings[0], x, y)) return false;
    for (var k = 1; k < rings.length; k++) if (ringContains(rings[k], x, y)) return false;
    return true;
  }
  function contains(geom, latlng) {
    var x = latlng.lng, y = latlng.lat;
    if (geom.type === "Polygon") return polygonContains(geom.coordinates, x, y);
    if (geom.type === "MultiPolygon") {
      return geom.coordinates.some(function (p) { return polygonContains(p, x, y); });
    }
    return false;
  }
  cf.contains = contains;

  function segDist(p, a, b) {
    var dx = b.x - a.x, dy = b.y - a.y, len = dx * dx + dy * dy;
    var t = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
    return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
  }
  function lineNear(map, geom, pt, tol) {
    var lines = geom.type === "LineString" ? [geom.coordinates]
      : geom.type === "MultiLineString" ? geom.coordinates : [];
    return lines.some(function (line) {
      var prev = null;
      for (var i = 0; i < line.length; i++) {
        var q = map.latLngToContainerPoint([line[i][1], line[i][0]]);
        if (prev && segDist(pt, prev, q) <= tol) return true;
        prev = q;
      }
      return false;
    });
  }

  function hit(map, l, latlng, pt) {
    var g = l.feature && l.feature.geometry;
    if (!g) return false;
    if (l.getLatLng) return map.latLngToContainerPoint(l.getLatLng()).distanceTo(pt) <= 11;
    if (g.type === "Polygon" || g.type === "MultiPolygon") {
      return l.getBounds().contains(latlng) && contains(g, latlng);
    }
    var b = l.getBounds();
    if (!b.isValid()) return false;
    var sw = map.latLngToContainerPoint(b.getSouthWest()), ne = map.latLngToContainerPoint(b.getNorthEast());
    if (pt.x < sw.x - 7 || pt.x > ne.x + 7 || pt.y > sw.y + 7 || pt.y < ne.y - 7) return false;
    return lineNear(map, g, pt, 6);
  }

  function labelOf(layer) {
    return layer._cfLabel || (layer._cfParent && labelOf(layer._cfParent)) || "";
  }
  cf.labelOf = labelOf;

  // Features under a container point, top first; `first` (a clicked marker) leads.
  cf.featuresAt = function (map, latlng, first) {
    var pt = map.latLngToContainerPoint(latlng), out = [];
    pickers.forEach(function (pk) {
      if (!map.hasLayer(pk.layer)) return;
      pk.pages(map, latlng, pt, first).forEach(function (page) {
        page.order = typeof pk.order === "function" ? pk.order() : pk.order;
        page.label = page.label || labelOf(pk.layer);
        out.push(page);
      });
    });
    out.sort(function (a, b) { return (a.layer === first ? -1 : 0) - (b.layer === first ? -1 : 0)
      || a.order - b.order; });
    return out;
  };

  var highlight = null;
  function showHighlight(map, page) {
    if (highlight) { map.removeLayer(highlight); highlight = null; }
    var f = page.layer && page.layer.feature;
    if (!f || !f.geometry || f.geometry.type === "Point") return;
    highlight = L.geoJSON(f, {pane: "cf-top", interactive: false,
      style: {color: "#00e5ff", weight: 4, fill: false, opacity: 0.9}}).addTo(map);
  }

  // The popup that pages through what is under the pointer, as ArcGIS Online's does.
  cf.identify = function (map, latlng, first) {
    var pages = cf.featuresAt(map, latlng, first);
    if (!pages.length) return null;
    var i = 0;
    var wrap = el("div", "cf-pages");
    var nav = el("div", "cf-nav");
    var prev = el("button", "cf-prev", "\u2039"), next = el("button", "cf-next", "\u203a");
    prev.type = next.type = "button";
    var count = el("span", "cf-count");
    var what = el("div", "cf-page-layer");
    nav.appendChild(prev); nav.appendChild(count); nav.appendChild(next);
    var body = el("div", "cf-page");
    wrap.appendChild(nav); wrap.appendChild(what); wrap.appendChild(body);
    if (pages.length < 2) nav.style.display = "none";
    function show() {
      var page = pages[i];
      body.textContent = "";
      body.appendChild(page.build());
      what.textContent = page.label;
      count.textContent = (i + 1) + "/" + pages.length;
      showHighlight(map, page);
    }
    L.DomEvent.on(prev, "click", function (e) { L.DomEvent.stop(e); i = (i + pages.length - 1) % pages.length; show(); });
    L.DomEvent.on(next, "click", function (e) { L.DomEvent.stop(e); i = (i + 1) % pages.length; show(); });
    show();
    var popup = L.popup({maxWidth: 400, minWidth: 220, autoPanPaddingTopLeft: [60, 60],
                         autoPanPaddingBottomRight: [60, 40]})
      .setLatLng(latlng).setContent(wrap).openOn(map);
    popup.cfPages = pages;
    return popup;
  };

  cf.identifyOnClick = function (map) {
    map.on("click", function (e) { cf.identify(map, e.latlng, null); });
    map.on("popupclose", function () {
      if (highlight) { map.removeLayer(highlight); highlight = null; }
    });
    return null;
  };

  function geoPages(layer, build) {
    return function (map, latlng, pt, first) {
      var out = [];
      layer.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (!p || !p.r) return;
        if (l === first || hit(map, l, latlng, pt)) {
          out.push({layer: l, build: function () { return build(l, p); }});
        }
      });
      return out;
    };
  }

  // ------------------------------------------------------------------ layers

  // A GeoJSON layer: per-feature style in properties.s, name in .n, popup rows in .r;
  // points are glyph markers (spec.glyph) or circle markers and take clicks; lines and
  // polygons do not (the map's click finds them). spec.order: place in the popup's pages.
  cf.geo = function (spec) {
    var style = spec.style || {};
    var layer = L.geoJSON(spec.data, {
      interactive: false, pane: style.pane || "overlayPane",
      style: function (f) { return L.extend({}, style, f.properties.s || {}); },
      pointToLayer: function (f, latlng) {
        var m = spec.glyph
          ? L.marker(latlng, {icon: cf.icon(spec.glyph, f.properties.d), n: f.properties.n})
          : L.circleMarker(latlng, L.extend({radius: 6}, style, f.properties.s || {},
                                            {interactive: true, pane: "markerPane"}));
        if (!empty(f.properties.n)) {
          m.bindTooltip(function () { return el("span", null, f.properties.n); });
        }
        if (f.properties.r) {
          m.on("click", function (e) {
            L.DomEvent.stop(e);
            cf.identify(m._map, m.getLatLng(), m);
          });
        }
        return m;
      }
    });
    if (spec.order !== undefined) {
      register(layer, spec.order, geoPages(layer, function (l, p) { return popupBox(p.n || "", p.r); }));
    }
    return layer;
  };

  // A layer built the first time it is shown (for layers that start hidden).
  cf.lazy = function (make) {
    var group = L.layerGroup(), built = null, onAdd = group.onAdd;
    group.onAdd = function (map) {
      if (!built) { built = make(); built._cfParent = group; group.addLayer(built); }
      return onAdd.call(this, map);
    };
    return group;
  };

  // Names on the map: one non-interactive label per feature, from zoom spec.minZoom (14), and
  // only those in or near the view are on the page (a city has thousands of units).
  cf.labels = function (spec) {
    var group = L.layerGroup(), markers = null, map = null, minZoom = spec.minZoom || 14;
    function refresh() {
      if (!map) return;
      if (map.getZoom() < minZoom) { group.clearLayers(); return; }
      if (!markers) {
        markers = spec.items.map(function (it) {
          var span = el("span", "cf-label " + spec.cls, it[2]);
          return L.marker([it[0], it[1]], {
            icon: L.divIcon({className: "cf-label-icon", html: span, iconSize: null}),
            interactive: false, keyboard: false, pane: "cf-labels"
          });
        });
      }
      var view = map.getBounds().pad(0.5);
      markers.forEach(function (m) {
        var inside = view.contains(m.getLatLng());
        if (inside && !group.hasLayer(m)) group.addLayer(m);
        if (!inside && group.hasLayer(m)) group.removeLayer(m);
      });
    }
    var onAdd = group.onAdd, onRemove = group.onRemove;
    group.onAdd = function (m) {
      map = m;
      m.on("zoomend moveend", refresh);
      onAdd.call(this, m);
      refresh();
    };
    group.onRemove = function (m) {
      m.off("zoomend moveend", refresh);
      group.clearLayers();
      onRemove.call(this, m);
      map = null;
    };
    return group;
  };

  // Facilities: one marker cluster for every kind, one sub-group per kind.
  // spec.kinds: [{key, label, glyph, rows: [[lon, lat, name, fid, status, year, cf, cap, unit,
  // pending now, pending once planned]]}]; spec.cols: popup labels; spec.statuses, spec.units,
  // spec.yesno: lookups.
  cf.facilities = function (map, spec) {
    var cluster = L.markerClusterGroup(L.extend({
      showCoverageOnHover: false, spiderfyOnMaxZoom: true, maxClusterRadius: 45,
      disableClusteringAtZoom: 16, chunkedLoading: true,
      iconCreateFunction: function (c) {
        var n = c.getChildCount(), size = n < 10 ? 30 : n < 100 ? 36 : 44;
        var div = el("div"); div.appendChild(el("span", null, n));
        return L.divIcon({html: div, className: "cf-cluster", iconSize: [size, size]});
      }
    }, spec.cluster || {}));
    cluster.addTo(map);
    var layers = {}, all = [], scenario = 0;
    // Each kind's markers are made when the kind is first shown (or searched): a city has
    // tens of thousands, and most kinds start hidden.
    spec.kinds.forEach(function (kind) {
      var sub = L.featureGroup.subGroup(cluster, []), built = false;
      function make(row) {
        var m = L.marker([row[1], row[0]], {icon: cf.icon(kind.glyph, row[9 + scenario]), n: row[2]});
        var rows = [
          [spec.cols[0], kind.label],
          [spec.cols[2], spec.statuses[row[4]]], [spec.cols[3], row[5]],
          [spec.cols[4], row[6] === null ? null : spec.yesno[row[6]]], [spec.cols[5], row[7]],
          [spec.cols[6], row[8] === null ? spec.noUnit : spec.units[row[8]]]
        ];
        m.cfRow = row;
        m.cfKind = kind;
        m.cfBuild = function () { return popupBox(row[2], rows); };
        m.on("click", function (e) { L.DomEvent.stop(e); cf.identify(map, m.getLatLng(), m); });
        m.bindTooltip(function () { return el("span", null, row[2]); });
        m._cfEntry = sub;
        all.push(m);
        return m;
      }
      sub.cfBuild = function () {
        if (built) return;
        built = true;
        // Into the sub-group only: when it is (being) shown, its onAdd hands them to the
        // cluster in one batch (one by one, the cluster re-draws its icons each time).
        var shown = sub._map;
        sub._map = null;
        kind.rows.forEach(function (row) { sub.addLayer(make(row)); });
        sub._map = shown;
      };
      var onAdd = sub.onAdd;
      sub.onAdd = function (m) { sub.cfBuild(); return onAdd.call(this, m); };
      sub._cfKind = kind.key;
      layers[kind.key] = sub;
    });
    // Markers under the pointer: shown (not inside a cluster) and within the glyph's radius.
    register(cluster, 0, function (m, latlng, pt, first) {
      var out = [];
      all.forEach(function (mk) {
        if (!map.hasLayer(mk._cfEntry)) return;
        if (mk !== first) {
          if (cluster.getVisibleParent(mk) !== mk) return;
          if (map.latLngToContainerPoint(mk.getLatLng()).distanceTo(pt) > 11) return;
        }
        out.push({layer: mk, label: mk.cfKind.label, build: mk.cfBuild});
      });
      return out;
    });
    function setScenario(si) {
      if (si === scenario) return;
      scenario = si;
      all.forEach(function (m) { m.setIcon(cf.icon(m.cfKind.glyph, m.cfRow[9 + si])); });
      cluster.refreshClusters();
    }
    return {cluster: cluster, layers: layers, setScenario: setScenario};
  };

  // ------------------------------------------------------------------ status colouring
  // Units (or subdistricts) coloured by the view the selector chose. Properties: n name, r popup
  // rows, c label point [lat, lon], t status string (per target, per scenario: M met, N not
  // met, U unknown, - not counted), a {target index: [share now, share planned]} (0-1).
  // Views: {count: true} colours units by how many plan targets they fail; {ti} by target ti,
  // walking-access targets in share classes (spec.targets[ti].classes).
  cf.status = {};
  cf.statusLayer = function (spec) {
    var layer = cf.geo({data: spec.data, style: spec.style});
    cf.status[spec.level] = layer;
    layer.cfSpec = spec;
    layer._cfLabel = spec.label;
    function failCount(p, si) {
      var n = 0;
      spec.targets.forEach(function (t, ti) {
        if (t.plan && t.level === spec.level && p.t.charAt(ti * 2 + si) === "N") n++;
      });
      return n;
    }
    function classOf(t, share) {
      for (var k = 0; k < t.classes.length; k++) {
        if (share < t.classes[k].hi - 1e-12) return t.classes[k];
      }
      return t.classes[t.classes.length - 1];
    }
    layer.cfColour = function (p, view, si) {
      if (view.count) {
        if (spec.level !== "unit") return null;
        return spec.fails[Math.min(failCount(p, si), spec.fails.length - 1)];
      }
      var t = spec.targets[view.ti];
      if (t.level !== spec.level) return null;
      var ch = p.t.charAt(view.ti * 2 + si);
      if (t.classes && ch !== "-" && ch !== "U" && p.a && p.a[view.ti] && p.a[view.ti][si] !== null) {
        return classOf(t, p.a[view.ti][si]).color;
      }
      return spec.colors[ch];
    };
    layer.cfSelect = function (view, si) {
      layer.eachLayer(function (l) {
        var p = l.feature.properties, c = layer.cfColour(p, view, si);
        var counted = c && !(view.ti !== undefined && p.t.charAt(view.ti * 2 + si) === "-");
        l.setStyle({fillColor: c || "#ffffff", fillOpacity: c ? (counted ? 0.6 : 0.12) : 0});
      });
    };
    function page(l, p) {
      var rows = p.r.slice(), sel = cf.selected;
      if (sel) {
        var si = sel.si;
        if (sel.count && spec.level === "unit") {
          rows.unshift([spec.countWord, String(failCount(p, si))]);
        } else if (!sel.count && spec.targets[sel.ti].level === spec.level) {
          var t = spec.targets[sel.ti], ch = p.t.charAt(sel.ti * 2 + si);
          var line = t.label + " \u00b7 " + spec.words[ch];
          if (p.a && p.a[sel.ti] && p.a[sel.ti][si] !== null) line += " \u00b7 " + pct(p.a[sel.ti][si]);
          rows.unshift([spec.selectedWord, line]);
        }
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
    }
    // The level the selection colours comes first: a subdistrict target's page leads.
    register(layer, function () {
      return cf.selected && !cf.selected.count && cf.selected.level === spec.level ? spec.order - 20
        : spec.order;
    }, geoPages(layer, page));
    return layer;
  };

  // The legend lines of the selected view: [colour, label], and a title.
  function statusLegend(spec, view, si) {
    var words = spec.words, lines = [];
    if (view.count) {
      spec.fails.forEach(function (c, n) { lines.push([c, spec.failWords[n]]); });
      return {title: spec.countTitle, lines: lines};
    }
    var t = spec.targets[view.ti];
    if (t.classes) {
      t.classes.slice().reverse().forEach(function (k) { lines.push([k.color, k.label]); });
      lines.push([spec.colors.U, words.U]);
    } else {
      ["M", "N", "U"].forEach(function (c) { lines.push([spec.colors[c], words[c]]); });
    }
    if (t.partial) lines.push([spec.colors["-"], words["-"]]);
    return {title: t.label, lines: lines};
  }

  // The target selector: the fail-count view, every per-unit target, and the scenario.
  cf.selector = function (map, spec) {
    var Ctl = L.Control.extend({
      onAdd: function () {
        var box = controlBox("cf-selector", "cf-selector");
        var select = el("select", "cf-select");
        select.id = "cf-target";
        select.title = spec.title;
        select.setAttribute("aria-label", spec.title);
        var count = el("option", null, spec.countLabel);
        count.value = "count";
        select.appendChild(count);
        spec.targets.forEach(function (t, i) {
          var o = el("option", null, t.label);
          o.value = String(i);
          o.title = t.label;
          select.appendChild(o);
        });
        select.value = "count";
        box.appendChild(select);
        var radios = el("div", "cf-scen");
        spec.scenarios.forEach(function (s, i) {
          var lab = el("label");
          var r = el("input");
          r.type = "radio"; r.name = "cf-scenario"; r.value = String(i); r.checked = i === 0;
          r.id = "cf-scenario-" + s.key;
          lab.appendChild(r);
          lab.appendChild(el("span", null, s.short || s.label));
          lab.title = s.label;
          radios.appendChild(lab);
        });
        box.appendChild(radios);
        var apply = function () {
          var si = parseInt(box.querySelector("input[name=cf-scenario]:checked").value, 10);
          var view = select.value === "count" ? {count: true} : {ti: parseInt(select.value, 10)};
          cf.selected = {count: !!view.count, ti: view.ti, si: si,
                         level: view.count ? "unit" : spec.targets[view.ti].level};
          spec.layers.forEach(function (entry) { entry.layer.cfSelect(view, si); });
          var unit = spec.layers[0].layer.cfSpec;
          cf.legendStatus = statusLegend(unit, view, si);
          cf.legendStatus.title += " \u00b7 " + spec.scenarios[si].label;
          if (window.cf_facilities) cf_facilities.setScenario(si);
          if (cf.showKinds) cf.showKinds(view.count ? spec.countKinds : spec.targets[view.ti].kinds);
          map.fire("cfplan:target", cf.selected);
        };
        L.DomEvent.on(select, "change", apply);
        radios.querySelectorAll("input").forEach(function (r) { L.DomEvent.on(r, "change", apply); });
        cf.applySelection = apply;
        return box;
      }
    });
    var ctl = new Ctl({position: "topright"}).addTo(map);
    return ctl;
  };

  // ------------------------------------------------------------------ layer control, legend

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
          gh.appendChild(el("span", null, g.label));
          group.appendChild(gh);
          var members = [];
          g.layers.forEach(function (entry) {
            var lab = el("label", "cf-layer");
            var inp = el("input");
            inp.type = entry.radio ? "radio" : "checkbox";
            if (entry.radio) inp.name = "cf-base-" + gi;
            inp.checked = !!entry.show;
            lab.appendChild(inp);
            lab.appendChild(el("span", null, entry.name));
            group.appendChild(lab);
            var item = {input: inp, entry: entry, group: gcb, members: members};
            members.push(item);
            inputs.push(item);
            if (entry.layer) {
              entry.layer._cfLabel = entry.name;
              if (entry.layer.eachLayer) {
                entry.layer.eachLayer(function (child) { if (!child._cfLabel) child._cfParent = entry.layer; });
              }
              if (entry.show && !map.hasLayer(entry.layer)) map.addLayer(entry.layer);
              if (!entry.show && map.hasLayer(entry.layer)) map.removeLayer(entry.layer);
            }
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
      if (cf.legend) cf.legend.update();
    }
    var ctl = new Ctl({position: "topright"}).addTo(map);
    sync();
    // The facility kinds of the selected target: on; the other kinds: off.
    cf.showKinds = function (kinds) {
      inputs.forEach(function (item) {
        var kind = item.entry.kind;
        if (!kind || !item.entry.layer) return;
        var want = kinds.indexOf(kind) >= 0;
        if (want && !map.hasLayer(item.entry.layer)) map.addLayer(item.entry.layer);
        if (!want && map.hasLayer(item.entry.layer)) map.removeLayer(item.entry.layer);
      });
      sync();
    };
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
    ctl.cfInputs = inputs;
    return ctl;
  };

  // The legend: the colouring of the selected view, then one section per visible layer entry
  // (its legend lines: [colour, label, shape, glyph]); hidden layers are not listed.
  cf.legendControl = function (map, spec) {
    var body;
    var Ctl = L.Control.extend({
      onAdd: function () {
        var fold = foldingBox("cf-legend", "cf-legend", spec.title, spec.collapsed);
        body = fold.body;
        return fold.box;
      }
    });
    var ctl = new Ctl({position: "bottomright"}).addTo(map);
    function swatch(line) {
      var row = el("div", "cf-leg");
      var shape = line[2] || "fill", sw;
      if (shape === "glyph") {
        sw = el("span", "cf-ico cf-sm", line[3]);
        sw.style.background = line[0];
      } else {
        sw = el("span", "cf-sw cf-sw-" + shape);
        if (shape === "line" || shape === "dash") sw.style.borderTopColor = line[0];
        else sw.style.background = line[0];
      }
      row.appendChild(sw);
      row.appendChild(el("span", null, line[1]));
      return row;
    }
    function update() {
      if (!body) return;
      body.textContent = "";
      var units = cf.status.unit;
      if (cf.legendStatus && units && map.hasLayer(units)) {
        body.appendChild(el("div", "cf-leg-title", cf.legendStatus.title));
        cf.legendStatus.lines.forEach(function (l) { body.appendChild(swatch(l)); });
      }
      var shown = {};
      spec.entries.forEach(function (e) {
        if (!e.layer || !map.hasLayer(e.layer) || !e.legend.length) return;
        var sec = el("div", "cf-leg-sec");
        e.legend.forEach(function (l) {
          var key = l.join("|");
          if (shown[key]) return;
          shown[key] = true;
          sec.appendChild(swatch(l));
        });
        if (sec.childNodes.length) body.appendChild(sec);
      });
      var anyFacility = spec.entries.some(function (e) { return e.kind && map.hasLayer(e.layer); });
      if (anyFacility) spec.facilityNotes.forEach(function (n) { body.appendChild(el("div", "cf-note", n)); });
    }
    var pending = false;
    map.on("layeradd layerremove cfplan:target", function () {
      if (pending) return;
      pending = true;
      setTimeout(function () { pending = false; update(); }, 0);
    });
    ctl.update = update;
    cf.legend = ctl;
    update();
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
        spec.layers.forEach(function (l) { if (l.cfBuild) l.cfBuild(); l.eachLayer(fn); });
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
          // Street zoom, centred: the marker stands alone and its popup fits the screen.
          m.setView(layer.getLatLng(), Math.max(m.getZoom(), 16), {animate: false});
          cf.identify(m, layer.getLatLng(), layer);
        } else if (layer && layer.getBounds) {
          var p = layer.feature.properties;
          m.fitBounds(layer.getBounds(), {maxZoom: 16, animate: false});
          cf.identify(m, p.c ? L.latLng(p.c[0], p.c[1]) : layer.getBounds().getCenter(), layer);
        } else if (layer && layer.getLatLng) {
          m.setView(layer.getLatLng(), 17, {animate: false});
          cf.identify(m, layer.getLatLng(), layer);
        } else {
          m.setView(latlng, 17);
        }
      }
    });
    map.addControl(ctl);
    cf.searchControl = ctl;
    return ctl;
  };

  // Fit the district between the panels: the page opens with it whole and uncovered.
  cf.fit = function (map, bounds, pad) {
    var b = L.latLngBounds(bounds);
    var fitIt = function () {
      map.fitBounds(b, {paddingTopLeft: pad[0], paddingBottomRight: pad[1], animate: false});
    };
    fitIt();
    cf.refit = fitIt;
    return null;
  };
})();
