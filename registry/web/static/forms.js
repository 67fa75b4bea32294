/* After a refused submission, move keyboard and screen-reader focus to the list of errors. */
(function () {
  "use strict";
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();

/* Pick the place on a map: a click sets latitude and longitude (typing them still works). */
(function () {
  "use strict";
  var el = document.getElementById("pick-map");
  if (!el || typeof L === "undefined") { return; }
  var latInput = document.getElementById(el.getAttribute("data-lat-input"));
  var lonInput = document.getElementById(el.getAttribute("data-lon-input"));
  if (!latInput || !lonInput) { return; }
  function number(input) { return parseFloat((input.value || "").replace(",", ".")); }
  var map = L.map(el, { scrollWheelZoom: false });
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: el.getAttribute("data-attribution") || "" }).addTo(map);
  }
  map.attributionControl.setPrefix(false);
  var marker = null;
  function place(lat, lon, zoom) {
    if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.marker([lat, lon], { keyboard: false }).addTo(map); }
    if (zoom) { map.setView([lat, lon], zoom); }
  }
  var lat = number(latInput), lon = number(lonInput);
  if (isFinite(lat) && isFinite(lon)) { place(lat, lon, 15); } else { map.setView([30, 0], 2); }
  map.on("click", function (event) {
    var p = event.latlng.wrap();
    latInput.value = p.lat.toFixed(6);
    lonInput.value = p.lng.toFixed(6);
    place(p.lat, p.lng, null);
    el.setAttribute("data-picked", latInput.value + "," + lonInput.value);
  });
  [latInput, lonInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var a = number(latInput), b = number(lonInput);
      if (isFinite(a) && isFinite(b)) { place(a, b, Math.max(map.getZoom(), 13)); }
    });
  });
  var finder = document.getElementById("find-place");
  if (finder) {
    finder.parentNode.hidden = false;
    var status = document.getElementById("find-place-status");
    finder.addEventListener("click", function () {
      var parts = ["f-street_address", "f-postal_code", "f-locality", "f-region"].map(function (id) {
        var input = document.getElementById(id);
        return input ? input.value.trim() : "";
      }).filter(Boolean);
      var country = document.getElementById("f-country");
      if (country && country.selectedIndex > 0) { parts.push(country.options[country.selectedIndex].text); }
      if (!parts.length) { return; }
      var tries = [parts.join(", ")];
      var town = document.getElementById("f-locality");
      if (town && town.value.trim()) { tries.push(town.value.trim()); }
      (function next(i) {
        if (i >= tries.length) { status.textContent = finder.getAttribute("data-none"); return; }
        fetch(finder.getAttribute("data-url") + "?q=" + encodeURIComponent(tries[i]), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (data) {
            var found = (data.items || [])[0];
            if (!found) { next(i + 1); return; }
            latInput.value = found.latitude.toFixed(6);
            lonInput.value = found.longitude.toFixed(6);
            place(found.latitude, found.longitude, 15);
            status.textContent = finder.getAttribute("data-found").replace("{name}", found.name);
          })
          .catch(function () { next(i + 1); });
      })(0);
    });
  }
  var hint = document.createElement("p");
  hint.className = "help";
  hint.textContent = el.getAttribute("data-hint");
  el.parentNode.insertBefore(hint, el);
})();
