/* Maps for the search results and the asset page. The pages work without this script; it
   only adds a Leaflet map. Names come from the data and are set as text, never as HTML.
   Markers stay out of the tab order: the list beside the map holds the same results. */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }
  L.Marker.prototype.options.keyboard = false;  // cluster markers inherit it too

  function baseMap(el) {
    var map = L.map(el, { scrollWheelZoom: false, keyboard: true });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) {
      // Tiles that cannot load leave a plain background; markers and the list still work.
      L.tileLayer(tiles, {
        maxZoom: 19,
        attribution: el.getAttribute("data-attribution") || ""
      }).addTo(map);
    }
    map.attributionControl.setPrefix(false);
    return map;
  }

  function popup(name, href) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.textContent = name || "";
    link.href = href || "#";
    box.appendChild(link);
    return box;
  }

  function marker(latlng, name) {
    return L.marker(latlng, { title: name || "", alt: name || "", keyboard: false });
  }

  function counted(latlng, n) {
    var size = n < 10 ? "small" : (n < 100 ? "medium" : "large");
    var inner = document.createElement("div");
    var label = document.createElement("span");
    label.textContent = n.toLocaleString();
    inner.appendChild(label);
    var icon = L.divIcon({
      html: inner.outerHTML, className: "marker-cluster marker-cluster-" + size,
      iconSize: L.point(40, 40)
    });
    return L.marker(latlng, { icon: icon, keyboard: false, title: String(n) });
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return key in values ? Number(values[key]).toLocaleString() : "";
    });
  }

  function boxOf(map) {
    var b = map.getBounds();
    function lon(x) { return Math.max(-180, Math.min(180, x)).toFixed(4); }
    function lat(x) { return Math.max(-90, Math.min(90, x)).toFixed(4); }
    return [lon(b.getWest()), lat(b.getSouth()), lon(b.getEast()), lat(b.getNorth())].join(",");
  }

  function resultsMap(el) {
    var map = baseMap(el);
    map.setView([20, 0], 2);
    var base = el.getAttribute("data-base") || "";
    var url = el.getAttribute("data-map");
    var status = document.getElementById(el.getAttribute("data-status") || "");
    var areaButton = document.getElementById("search-area");
    var layer = null, clustered = false, settled = false, asked = 0, whole = null;

    function caption(data) {
      if (!status) { return; }
      var key = data.view && data.shown < data.placed ? "data-view"
        : (data.placed < data.total ? "data-some" : "data-all");
      status.textContent = fill(status.getAttribute(key), {
        placed: data.placed, total: data.total, unplaced: data.total - data.placed, shown: data.shown
      });
    }

    // Draws the answer; resolves once every marker is on the map. The cluster layer adds its
    // markers in chunks after it joins the map, so a count taken sooner would be short.
    function draw(data) {
      if (layer) { map.removeLayer(layer); }
      var drawing = new Promise(function (drawn) {
        if (data.mode === "points") {
          layer = L.markerClusterGroup({
            chunkedLoading: true, showCoverageOnHover: false,
            chunkProgress: function (done, total) { if (done === total) { drawn(); } }
          });
          var markers = data.points.map(function (p) {
            return marker([p[0], p[1]], p[2]).bindPopup(popup(p[2], base + p[3]));
          });
          layer.addLayers(markers);
          layer.addTo(map);
          return;
        }
        layer = L.layerGroup();
        data.clusters.forEach(function (c) {
          counted([c[0], c[1]], c[2]).on("click", function () {
            map.setView([c[0], c[1]], Math.min(map.getZoom() + 2, 18));
          }).addTo(layer);
        });
        data.points.forEach(function (p) {
          marker([p[0], p[1]], p[2]).bindPopup(popup(p[2], base + p[3])).addTo(layer);
        });
        layer.addTo(map);
        drawn();
      });
      var mine = layer;
      return drawing.then(function () {
        if (layer !== mine) { return; }  // a newer answer replaced this one meanwhile
        el.setAttribute("data-markers", String(data.shown));
        el.setAttribute("data-placed", String(data.placed));
        caption(data);
      });
    }

    // aria-busy holds while markers are loaded or the view is fitted to them, for assistive
    // technology and for anything that reads the map's state; until the last such work ends.
    var working = 0;
    function busy(work) {
      working += 1;
      el.setAttribute("aria-busy", "true");
      function done() {
        working -= 1;
        if (!working) { el.setAttribute("aria-busy", "false"); }
      }
      return work.then(function (value) { done(); return value; },
        function (error) { done(); throw error; });
    }

    function load(withView) {
      var ticket = ++asked;
      var ask = url + (url.indexOf("?") < 0 ? "?" : "&") + "zoom=" + map.getZoom() +
        (withView ? "&view=" + boxOf(map) : "");
      return fetch(ask, { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          if (ticket !== asked) { return null; }  // a newer view was asked for meanwhile
          data.view = withView;
          if (!withView) { whole = data; }  // the view's answers leave out the totals
          if (whole) { data.placed = whole.placed; data.total = whole.total; }
          clustered = data.mode === "clusters";
          return draw(data).then(function () { return data; });
        });
    }

    function fit(data) {
      if (!data || !data.focus) { return data; }
      var f = data.focus;
      return new Promise(function (fitted) {
        map.once("moveend", function () {
          // The clusters then split or merge in an animation of their own; wait for its end
          // as the library's zoomToShowLayer does (markercluster 1.5.3).
          if (layer && layer._inZoomAnimation) {
            layer.once("animationend", function () { fitted(data); });
          } else {
            fitted(data);
          }
        });
        map.fitBounds([[f[1], f[0]], [f[3], f[2]]], { maxZoom: 14, padding: [20, 20] });
      });
    }

    busy(load(false).then(fit).then(function () {
      // Fitting moved the map; only the reader's own moves from now on offer "search this area".
      settled = true;
      return clustered ? load(true) : null;
    })).catch(function () {
      if (status) { status.textContent = status.getAttribute("data-failed"); }
    });

    map.on("moveend", function () {
      if (!settled) { return; }
      if (areaButton) { areaButton.hidden = false; }
      if (clustered) { busy(load(true)).catch(function () {}); }
    });
    if (areaButton) {
      areaButton.addEventListener("click", function () {
        var target = new URL(el.getAttribute("data-search"), window.location.href);
        target.searchParams.delete("page");
        target.searchParams.delete("near");
        target.searchParams.delete("place");
        target.searchParams.set("bbox", boxOf(map));
        window.location.assign(target.toString());
      });
    }
  }

  function pointMap(el) {
    var lat = parseFloat(el.getAttribute("data-lat"));
    var lon = parseFloat(el.getAttribute("data-lon"));
    if (!isFinite(lat) || !isFinite(lon)) { return; }
    var map = baseMap(el);
    map.setView([lat, lon], 15);
    marker([lat, lon], el.getAttribute("data-name")).addTo(map);
    el.setAttribute("data-markers", "1");
  }

  document.querySelectorAll(".map[data-map]").forEach(resultsMap);
  document.querySelectorAll(".map[data-lat]").forEach(pointMap);
})();
