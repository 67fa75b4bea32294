/* Maps for the search results and the asset page. The pages work without this script; it
   only adds a Leaflet map. Names come from the data and are set as text, never as HTML. */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  function baseMap(el) {
    var map = L.map(el, { scrollWheelZoom: false });
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

  function popup(props) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.textContent = props.name || "";
    link.href = props.page || props.url || "#";
    box.appendChild(link);
    if (props.summary) {
      var p = document.createElement("p");
      p.textContent = props.summary;
      box.appendChild(p);
    }
    return box;
  }

  function marker(latlng, name) {
    return L.marker(latlng, { title: name || "", alt: name || "", keyboard: true });
  }

  function resultsMap(el) {
    var map = baseMap(el);
    map.setView([20, 0], 2);
    var status = document.getElementById(el.getAttribute("data-status") || "");
    fetch(el.getAttribute("data-geojson"), { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            return marker(latlng, feature.properties && feature.properties.name);
          },
          onEachFeature: function (feature, item) {
            item.bindPopup(popup(feature.properties || {}));
          }
        }).addTo(map);
        var count = (data.features || []).length;
        if (count) { map.fitBounds(layer.getBounds(), { maxZoom: 14, padding: [20, 20] }); }
        el.setAttribute("data-markers", String(count));
        if (status) { status.textContent = status.getAttribute("data-template").replace("{n}", count); }
      })
      .catch(function () {
        if (status) { status.textContent = status.getAttribute("data-failed"); }
      });
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

  document.querySelectorAll(".map[data-geojson]").forEach(resultsMap);
  document.querySelectorAll(".map[data-lat]").forEach(pointMap);
})();
