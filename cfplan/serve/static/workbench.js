/* cfplan workbench: try a site, see every target change.
 * Part of cfplan (MIT). Data text is only ever set as textContent or a DOM node, never
 * parsed as HTML. Every request goes to this app only (same origin, the token cookie).
 */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("wb-config").textContent);
  var S = cfg.strings;
  var wb = (window.cfwb = {ready: false, busy: 0});
  var data = null, kinds = {}, selected = null, filter = "spatial", lastChanged = {};
  var compareRows = null, addMode = false, reachLayer = null, suggestLayer = null;
  var BAND = {5: "#2b8a3e", 10: "#74b816", 15: "#d9480f"};
  var STATUS_COLOR = {met: "#1a9850", not_met: "#d73027", unknown: "#fdae61",
                      not_assessed: "#999999"};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function button(text, cls, onclick) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", function (ev) { ev.preventDefault(); onclick(ev); });
    return b;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  var msgBox = el("div", "wb-message"), sugBox = el("div", "wb-suggest");
  msgBox.id = "wb-message"; sugBox.id = "wb-suggest";

  function api(method, path, body, raw) {
    wb.busy += 1;
    var opts = {method: method, credentials: "same-origin", headers: {}};
    if (body !== undefined) {
      opts.headers["Content-Type"] = raw ? "text/plain; charset=utf-8" : "application/json";
      opts.body = raw ? body : JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.json().then(function (j) { return {ok: r.ok, status: r.status, body: j}; });
    }).finally(function () { wb.busy -= 1; });
  }

  function errorText(res) {
    var b = res.body || {};
    if (typeof b.error === "string") return b.error;
    if (b.error && b.error[cfg.lang]) return b.error[cfg.lang];
    return S.error + " (" + res.status + ")";
  }
  function showError(res) {
    var box = msgBox;
    clear(box);
    box.className = "wb-message wb-error";
    box.appendChild(el("b", null, S.error + (res.body && res.body.field ? " · " + res.body.field : "")));
    box.appendChild(el("div", null, errorText(res)));
  }

  // ------------------------------------------------------------------ map

  var map = L.map("wb-map", {zoomControl: true, attributionControl: false, boxZoom: false});
  wb.map = map;
  L.control.scale({imperial: false}).addTo(map);
  var unitLayer = null, subLayer = null, facLayer = L.layerGroup().addTo(map);
  wb.markers = {};

  function failingUnits() {
    // unit code -> true for the selected target's failing units (edited scenario)
    var out = {};
    if (!selected) return out;
    var row = data.targets.find(function (r) { return r.id === selected; });
    if (!row || !row.edited) return out;
    if (row.level === "subdistrict") {
      var subs = {};
      row.edited.failing.forEach(function (c) { subs[c] = true; });
      data.district.units.features.forEach(function (f) {
        if (subs[f.properties.subdistrict]) out[f.properties.code] = true;
      });
    } else {
      row.edited.failing.forEach(function (c) { out[c] = true; });
    }
    return out;
  }

  function unitStyle(f) {
    var fail = wb.failing || {};
    var colour = !selected ? "#9ecae1" : (fail[f.properties.code] ? "#f46d43" : "#66bd63");
    return {color: "#555", weight: 1, fillColor: colour, fillOpacity: 0.45};
  }

  function recolour() {
    wb.failing = failingUnits();
    if (unitLayer) unitLayer.setStyle(unitStyle);
    var title = document.getElementById("wb-unit-title");
    if (title) {
      var row = selected && data.targets.find(function (r) { return r.id === selected; });
      title.textContent = row ? S.unit_status_title + row.id + " " + row.title : "";
    }
  }

  function unitPopup(f) {
    var p = f.properties, box = el("div", "wb-pop");
    box.appendChild(el("b", null, p.name));
    var t = el("table");
    [[S.population, p.population], [S.children, p.children]].forEach(function (r) {
      var tr = el("tr"); tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, r[1] === null ? "" : Math.round(r[1]))); t.appendChild(tr);
    });
    box.appendChild(t);
    if (!cfg.read_only) {
      var form = el("form", "wb-form");
      var pop = input("number", "population", p.population), kids = input("number", "children", p.children);
      form.appendChild(labelled(S.population, pop));
      form.appendChild(labelled(S.children, kids));
      form.appendChild(button(S.set_population, "wb-primary", function () {
        var body = {op: "population", unit: p.code};
        if (pop.value !== "") body.population = Number(pop.value);
        if (kids.value !== "") body.children = Number(kids.value);
        edit(body, function () { map.closePopup(); });
      }));
      box.appendChild(form);
    }
    return box;
  }

  function input(type, name, value) {
    var i = el("input");
    i.type = type; i.name = name;
    if (value !== undefined && value !== null) i.value = value;
    if (type === "number") i.step = "any";
    return i;
  }
  function labelled(text, control) {
    var l = el("label", "wb-field");
    l.appendChild(el("span", null, text));
    l.appendChild(control);
    return l;
  }

  function drawDistrict() {
    var d = data.district;
    L.geoJSON(d.boundary, {style: {color: "#222", weight: 2.5, fill: false}, interactive: false}).addTo(map);
    unitLayer = L.geoJSON(d.units, {
      style: unitStyle,
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return el("span", null, f.properties.name); }, {sticky: true});
        layer.on("click", function (e) {
          L.DomEvent.stopPropagation(e);
          if (addMode) { openAddForm(e.latlng); return; }
          L.popup({maxWidth: 320}).setLatLng(e.latlng).setContent(unitPopup(f)).openOn(map);
        });
      }
    }).addTo(map);
    if (d.subdistricts) {
      subLayer = L.geoJSON(d.subdistricts, {style: {color: "#444", weight: 2, dashArray: "6 4", fill: false},
                                            interactive: false}).addTo(map);
    }
    map.fitBounds(unitLayer.getBounds(), {padding: [10, 10]});
    wb.units = unitLayer;
  }

  var icons = {};
  function icon(kind, pending, edited) {
    var k = kinds[kind] || {glyph: "?", color: "#666"};
    var key = kind + (pending ? "p" : "") + (edited ? "e" : "");
    if (!icons[key]) {
      var box = el("div", "wb-ico" + (pending ? " wb-pending" : "") + (edited ? " wb-edited" : ""), k.glyph);
      box.style.borderColor = k.color;
      box.style.background = pending ? "#fff" : k.color;
      box.style.color = pending ? k.color : "#fff";
      icons[key] = L.divIcon({className: "wb-marker", html: box.outerHTML, iconSize: [19, 19],
                              iconAnchor: [10, 10], popupAnchor: [0, -9]});
    }
    return icons[key];
  }

  function facilityPopup(f) {
    var box = el("div", "wb-pop");
    box.appendChild(el("b", null, f.name));
    var t = el("table");
    var rows = [[S.kind, (kinds[f.kind] || {}).label || f.kind],
                [S.status, data.vocabulary.statuses[f.status] || f.status],
                [S.year, f.year], [S.capacity, f.capacity], ["ID", f.fid]];
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === "") return;
      var tr = el("tr"); tr.appendChild(el("th", null, r[0])); tr.appendChild(el("td", null, r[1]));
      t.appendChild(tr);
    });
    box.appendChild(t);
    if (!cfg.read_only) {
      var bar = el("div", "wb-actions");
      bar.appendChild(button(S.remove, "wb-danger", function () {
        edit({op: "remove", fid: f.fid}, function () { map.closePopup(); });
      }));
      if (f.status === "planned" || f.status === "under_construction") {
        bar.appendChild(button(S.done, null, function () {
          edit({op: "planned", fid: f.fid, outcome: "done"}, function () { map.closePopup(); });
        }));
        bar.appendChild(button(S.dropped, null, function () {
          edit({op: "planned", fid: f.fid, outcome: "dropped"}, function () { map.closePopup(); });
        }));
      }
      box.appendChild(bar);
      if (f.point) box.appendChild(el("div", "wb-hint", S.move_hint));
    }
    return box;
  }

  function drawFacilities() {
    facLayer.clearLayers();
    wb.markers = {};
    data.facilities.forEach(function (f) {
      var pending = f.status === "planned" || f.status === "under_construction";
      var m = L.marker([f.lat, f.lon], {icon: icon(f.kind, pending, f.edited), riseOnHover: true,
                                         draggable: f.point && !cfg.read_only, keyboard: false});
      m.bindTooltip(function () { return el("span", null, f.name); });
      m.bindPopup(function () { return facilityPopup(f); }, {maxWidth: 320});
      m.on("add", function () { var e = m.getElement(); if (e) e.setAttribute("data-fid", f.fid); });
      m.on("dragend", function () {
        var ll = m.getLatLng();
        edit({op: "move", fid: f.fid, lon: round7(ll.lng), lat: round7(ll.lat)}).then(function (ok) {
          if (!ok) m.setLatLng([f.lat, f.lon]);
        });
      });
      m.addTo(facLayer);
      wb.markers[f.fid] = m;
    });
  }

  function round7(x) { return Math.round(x * 1e7) / 1e7; }

  // ------------------------------------------------------------------ adding

  function setAddMode(on) {
    addMode = on;
    document.getElementById("wb-map").classList.toggle("wb-adding", on);
    var b = document.getElementById("wb-add");
    if (b) { b.classList.toggle("wb-on", on); b.textContent = on ? S.cancel : S.add; }
    var hint = document.getElementById("wb-add-hint");
    if (hint) hint.style.display = on ? "" : "none";
  }

  function openAddForm(latlng) {
    var form = el("form", "wb-form wb-add-form");
    form.id = "wb-add-form";
    var kind = el("select"); kind.name = "kind";
    data.kinds.forEach(function (k) {
      var o = el("option", null, k.label); o.value = k.key; kind.appendChild(o);
    });
    kind.value = "children_home";
    var name = input("text", "name", ""); name.maxLength = 200; name.required = true;
    var cap = input("number", "capacity", ""); cap.min = "0";
    var level = el("select"); level.name = "level";
    var none = el("option", null, S.level_none); none.value = ""; level.appendChild(none);
    data.vocabulary.levels.forEach(function (l) {
      var o = el("option", null, l.label); o.value = l.key; level.appendChild(o);
    });
    function defaults() { level.value = (kinds[kind.value] || {}).level || ""; }
    kind.addEventListener("change", defaults); defaults();
    var year = input("number", "year", data.default_year); year.step = "1";
    var friendly = input("checkbox", "child_friendly"); friendly.checked = true;
    form.appendChild(labelled(S.kind, kind));
    form.appendChild(labelled(S.name, name));
    form.appendChild(labelled(S.capacity, cap));
    form.appendChild(labelled(S.level, level));
    form.appendChild(labelled(S.year, year));
    form.appendChild(labelled(S.child_friendly, friendly));
    var submit = button(S.submit_add, "wb-primary", function () {
      var body = {op: "add", kind: kind.value, name: name.value, lon: round7(latlng.lng),
                  lat: round7(latlng.lat), child_friendly: friendly.checked};
      if (cap.value !== "") body.capacity = Number(cap.value);
      if (level.value) body.level = level.value;
      if (year.value !== "") body.year = Number(year.value);
      edit(body, function () { map.closePopup(); setAddMode(false); });
    });
    submit.id = "wb-add-submit";
    form.appendChild(submit);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); submit.click(); });
    L.popup({maxWidth: 340, closeOnClick: false}).setLatLng(latlng).setContent(form).openOn(map);
    setTimeout(function () { name.focus(); }, 0);
  }

  map.on("click", function (e) { if (addMode) openAddForm(e.latlng); });

  // ------------------------------------------------------------------ edits

  // POST one edit; ``done`` runs as soon as it is accepted (before the page redraws)
  function edit(body, done) {
    return api("POST", "/api/edits", body).then(function (res) {
      if (!res.ok) { showError(res); return false; }
      if (done) done();
      return applied(res.body).then(function () { return true; });
    });
  }

  function applied(answer) {
    lastChanged = {};
    answer.changed.forEach(function (c) { lastChanged[c.id] = c; });
    showChanges(answer);
    var perUnit = answer.changed.map(function (c) {
      return data.targets.find(function (r) { return r.id === c.id; });
    }).filter(function (r) { return r && r.per_unit; });
    if (perUnit.length) selected = perUnit[0].id;
    data.headline = answer.headline;
    data.can_undo = answer.can_undo; data.can_redo = answer.can_redo;
    return Promise.all([api("GET", "/api/targets"), api("GET", "/api/facilities")]).then(function (r) {
      data.targets = r[0].body;
      data.facilities = r[1].body.facilities;
      data.edits = r[1].body.edits;
      drawFacilities(); renderSide(); recolour();
      var k = (answer.kinds || []).find(function (x) { return kinds[x] && kinds[x].radius_m; });
      if (k) showReach(k);
    });
  }

  function showChanges(answer) {
    var box = msgBox;
    clear(box);
    box.className = "wb-message";
    var head = el("div", "wb-message-head");
    head.appendChild(el("b", null, S.changes));
    head.appendChild(el("span", "wb-ms", S.elapsed + " " + answer.elapsed_ms.toFixed(0) + " ms"));
    box.appendChild(head);
    if (!answer.changed.length) { box.appendChild(el("div", "wb-none", S.no_change)); return; }
    var list = el("ul", "wb-changes");
    answer.changed.forEach(function (c) {
      var li = el("li", "wb-change", c.summary);
      li.setAttribute("data-target", c.id);
      li.addEventListener("click", function () { selected = c.id; recolour(); renderTable(); });
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function undoRedo(which) {
    return api("POST", "/api/" + which).then(function (res) {
      if (!res.ok) { showError(res); return; }
      return applied(res.body);
    });
  }

  // ------------------------------------------------------------------ walking reach

  function showReach(kind) {
    var select = document.getElementById("wb-reach");
    if (select) select.value = kind;
    if (reachLayer) { map.removeLayer(reachLayer); reachLayer = null; }
    if (!kind) return Promise.resolve();
    return api("GET", "/api/reach?kind=" + encodeURIComponent(kind)).then(function (res) {
      if (!res.ok) return;
      if (reachLayer) map.removeLayer(reachLayer);
      reachLayer = L.geoJSON(res.body, {interactive: false, style: function (f) {
        return {color: BAND[f.properties.minutes] || "#888", weight: 7, opacity: 0.35, lineCap: "round"};
      }}).addTo(map);
      reachLayer.bringToBack();
      if (unitLayer) unitLayer.bringToBack();
    });
  }

  // ------------------------------------------------------------------ suggestions

  function suggested(s) {
    var body = {op: "add", kind: s.kind, lon: s.lon, lat: s.lat, name: s.name};
    if (s.level) body.level = s.level;
    return body;
  }

  function suggest(row) {
    var box = sugBox;
    clear(box);
    box.appendChild(el("div", "wb-hint", S.suggesting));
    api("POST", "/api/suggest", {target: row.id}).then(function (res) {
      clear(box);
      if (!res.ok) { showError(res); return; }
      var sites = res.body.sites;
      box.appendChild(el("b", null, S.suggest + " · " + row.id + "：" + res.body.message));
      if (suggestLayer) map.removeLayer(suggestLayer);
      suggestLayer = L.layerGroup().addTo(map);
      var list = el("ol", "wb-sites");
      sites.forEach(function (s) {
        var li = el("li", "wb-site");
        li.appendChild(el("span", null, s.kind_label + " · " + s.unit + " "));
        if (!cfg.read_only) {
          li.appendChild(button(S.accept, "wb-accept", function () {
            edit(suggested(s), function () {
              li.classList.add("wb-accepted"); li.querySelector("button").disabled = true;
            });
          }));
        }
        list.appendChild(li);
        L.circleMarker([s.lat, s.lon], {radius: 10, color: "#0b7285", weight: 3, fill: false,
                                        dashArray: "4 3"}).bindTooltip(s.name).addTo(suggestLayer);
      });
      box.appendChild(list);
      if (sites.length > 1 && !cfg.read_only) {
        box.appendChild(button(S.accept_all, "wb-primary", function () {
          var edits = sites.map(suggested);
          edit({op: "batch", edits: edits}, function () {
            Array.prototype.forEach.call(box.querySelectorAll(".wb-site"), function (li) {
              li.classList.add("wb-accepted");
            });
            Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = true; });
          });
        }));
      }
    });
  }

  // ------------------------------------------------------------------ side panel

  function statusCell(cell) {
    var td = el("td", "wb-cell");
    if (!cell) return td;
    td.setAttribute("data-status", cell.status);
    var dot = el("span", "wb-dot"); dot.style.background = STATUS_COLOR[cell.status] || "#999";
    dot.title = data.vocabulary.result_statuses[cell.status] || cell.status;
    td.appendChild(dot);
    td.appendChild(el("span", "wb-val", cell.value_text || data.vocabulary.result_statuses[cell.status]));
    if (cell.shortfall) td.title = cell.shortfall;
    return td;
  }

  function headline() {
    var box = el("div", "wb-headline");
    [["current", S.current], ["planned", S.planned], ["edited", S.edited]].forEach(function (p) {
      var h = data.headline[p[0]];
      var c = el("div", "wb-count wb-count-" + p[0]);
      c.appendChild(el("span", "wb-count-label", p[1]));
      c.appendChild(el("b", null, h.met + " / " + h.total));
      box.appendChild(c);
    });
    return box;
  }

  function renderTable() {
    var wrap = document.getElementById("wb-table-wrap");
    clear(wrap);
    var table = el("table", "wb-table");
    var head = el("tr");
    [S.col_id, S.col_title, S.current, S.planned, S.edited].concat(compareRows ? [S.compared] : [])
      .concat([""]).forEach(function (h) { head.appendChild(el("th", null, h)); });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var body = el("tbody");
    var compared = {};
    (compareRows || []).forEach(function (r) { compared[r.id] = r; });
    data.targets.forEach(function (r) {
      var changed = lastChanged[r.id];
      if (filter !== "all" && r.metric === "indicator") return;
      if (filter === "failing" && r.status_edited === "met") return;
      if (filter === "changed" && !changed && !(compared[r.id] && compared[r.id].differs)) return;
      var tr = el("tr", "wb-row" + (changed ? " wb-changed" : "") + (selected === r.id ? " wb-selected" : ""));
      tr.setAttribute("data-target", r.id);
      tr.appendChild(el("td", "wb-id", r.id));
      var title = el("td", "wb-title");
      title.appendChild(el("div", null, r.title));
      title.appendChild(el("div", "wb-req", r.target));
      tr.appendChild(title);
      tr.appendChild(statusCell(r.current));
      tr.appendChild(statusCell(r.planned));
      var ed = statusCell(r.edited);
      ed.classList.add("wb-edited-cell");
      if (changed) ed.appendChild(el("div", "wb-delta", changed.summary.replace(/^[^：:]*[：:]\s*/, "")));
      tr.appendChild(ed);
      if (compareRows) {
        var c = compared[r.id];
        var cell = c ? {status: c.b_status, value_text: c.b_value, shortfall: c.b_shortfall} : null;
        var td = statusCell(cell);
        if (c && c.differs) td.classList.add("wb-differs");
        tr.appendChild(td);
      }
      var act = el("td", "wb-act");
      if (r.siteable && r.status_edited && r.status_edited !== "met" && data.streets) {
        act.appendChild(button(S.suggest_short, "wb-suggest-btn", function (ev) {
          ev.stopPropagation(); suggest(r);
        }));
      }
      tr.appendChild(act);
      tr.addEventListener("click", function () {
        if (r.per_unit) { selected = r.id; recolour(); renderTable(); }
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    wrap.appendChild(table);
  }

  function editsList() {
    var box = el("details", "wb-edits");
    box.appendChild(el("summary", null, S.edits + " (" + data.edits.length + ")"));
    if (!data.edits.length) { box.appendChild(el("div", "wb-none", S.no_edits)); return box; }
    var ol = el("ol");
    data.edits.forEach(function (e) {
      var what = S["op_" + e.op] + " · " + (e.name || e.fid || e.unit || "");
      if (e.outcome) what += " · " + S["outcome_" + e.outcome];
      ol.appendChild(el("li", null, what));
    });
    box.appendChild(ol);
    return box;
  }

  function renderSide() {
    var side = document.getElementById("wb-side");
    clear(side);
    var title = el("div", "wb-title-bar");
    title.appendChild(el("h1", null, data.name));
    title.appendChild(el("div", "wb-sub", data.plan + " · " + (data.base === "planned" ? S.base_planned : S.base_current)));
    side.appendChild(title);
    if (data.synthetic) side.appendChild(el("div", "wb-banner", S.synthetic));
    if (cfg.read_only) side.appendChild(el("div", "wb-banner wb-ro", S.readonly));
    side.appendChild(headline());
    var bar = el("div", "wb-toolbar");
    if (!cfg.read_only) {
      var add = button(addMode ? S.cancel : S.add, "wb-primary" + (addMode ? " wb-on" : ""), function () { setAddMode(!addMode); });
      add.id = "wb-add"; bar.appendChild(add);
      var u = button(S.undo, null, function () { undoRedo("undo"); }); u.id = "wb-undo"; u.disabled = !data.can_undo;
      var r = button(S.redo, null, function () { undoRedo("redo"); }); r.id = "wb-redo"; r.disabled = !data.can_redo;
      bar.appendChild(u); bar.appendChild(r);
    }
    var save = el("a", "wb-link", S.save); save.id = "wb-save";
    save.href = "/api/scenario"; save.setAttribute("download", "workbench.scenario");
    bar.appendChild(save);
    var file = el("input"); file.type = "file"; file.id = "wb-compare-file"; file.accept = ".scenario,text/plain";
    file.addEventListener("change", function () {
      if (!file.files.length) return;
      file.files[0].text().then(function (text) {
        return api("POST", "/api/compare", text, true);
      }).then(function (res) {
        if (!res.ok) { showError(res); return; }
        compareRows = res.body; renderSide();
      });
    });
    var cmp = el("label", "wb-compare", S.compare);
    cmp.appendChild(file);
    if (compareRows) {
      cmp = button(S.compare_clear, null, function () { compareRows = null; renderSide(); });
    }
    bar.appendChild(cmp);
    side.appendChild(bar);
    var hint = el("div", "wb-hint", S.add_hint); hint.id = "wb-add-hint";
    hint.style.display = addMode ? "" : "none";
    side.appendChild(hint);
    var reach = el("select"); reach.id = "wb-reach";
    var off = el("option", null, S.reach_none); off.value = ""; reach.appendChild(off);
    data.kinds.forEach(function (k) {
      if (!k.radius_m || !data.streets) return;
      var o = el("option", null, k.label); o.value = k.key; reach.appendChild(o);
    });
    reach.addEventListener("change", function () { showReach(reach.value); });
    var reachRow = el("div", "wb-reach-row");
    reachRow.appendChild(el("span", null, S.reach)); reachRow.appendChild(reach);
    var legend = el("span", "wb-legend");
    [5, 10, 15].forEach(function (m) {
      var sw = el("span", "wb-swatch"); sw.style.background = BAND[m];
      legend.appendChild(sw); legend.appendChild(el("span", null, m + " " + S.minutes));
    });
    reachRow.appendChild(legend);
    side.appendChild(reachRow);
    side.appendChild(msgBox);  // kept across redraws: the last answer stays in view
    side.appendChild(sugBox);
    var unitTitle = el("div", "wb-unit-title"); unitTitle.id = "wb-unit-title"; side.appendChild(unitTitle);
    var filters = el("div", "wb-filters");
    filters.appendChild(el("b", null, S.targets));
    [["spatial", S.filter_spatial], ["failing", S.filter_failing], ["changed", S.filter_changed],
     ["all", S.filter_all]].forEach(function (f) {
      var b = button(f[1], filter === f[0] ? "wb-on" : null, function () { filter = f[0]; renderSide(); });
      b.setAttribute("data-filter", f[0]);
      filters.appendChild(b);
    });
    side.appendChild(filters);
    var wrap = el("div", "wb-table-wrap"); wrap.id = "wb-table-wrap"; side.appendChild(wrap);
    side.appendChild(editsList());
    renderTable();
    recolour();
  }

  // ------------------------------------------------------------------ start

  document.getElementById("wb-side").appendChild(el("div", "wb-hint", S.loading));
  api("GET", "/api/state").then(function (res) {
    if (!res.ok) { document.getElementById("wb-side").textContent = errorText(res); return; }
    data = res.body;
    data.kinds.forEach(function (k) { kinds[k.key] = k; });
    drawDistrict();
    drawFacilities();
    renderSide();
    wb.ready = true;
  });
})();
