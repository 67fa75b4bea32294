"""Open-data outputs: DCAT-AP catalog, GeoJSON and CSV, OGC API Features."""
