#!/usr/bin/env bash
# Writes the same standard points with furrow's GeoParquet writer, GeoPandas `to_parquet` and pyarrow
# `write_table` (zstd, one thread each where the library allows) and reports rows/s and the ratios.
# Target: furrow at least 2x GeoPandas. Venv cached in ${FURROW_CACHE:-$HOME/.cache/furrow}/venv.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${FURROW_CACHE:-$HOME/.cache/furrow}/venv"
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check geopandas pyarrow shapely pyproj
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
line="$(FURROW_COMPARE_OUT="$tmp/furrow.parquet" cargo bench --quiet -p furrow-benches --bench geoparquet-compare 2>/dev/null | grep furrow_write_seconds)"
echo "$line"
"$venv/bin/python" - "$tmp" "$line" <<'PY'
import os, sys, time
import geopandas as gpd, pyarrow as pa, pyarrow.parquet as pq

tmp, line = sys.argv[1], sys.argv[2]
kv = dict(p.split("=", 1) for p in line.split())
furrow_s, rows = float(kv["furrow_write_seconds"]), int(kv["rows"])
pa.set_cpu_count(1)
pa.set_io_thread_count(1)
gdf = gpd.read_parquet(os.path.join(tmp, "furrow.parquet"))
table = pq.read_table(os.path.join(tmp, "furrow.parquet"))
assert len(gdf) == rows == table.num_rows

def best(f, n=3):
    t = float("inf")
    for _ in range(n):
        s = time.perf_counter(); f(); t = min(t, time.perf_counter() - s)
    return t

gp_s = best(lambda: gdf.to_parquet(os.path.join(tmp, "gp.parquet"), compression="zstd",
                                   write_covering_bbox=True, row_group_size=65536))
pa_s = best(lambda: pq.write_table(table, os.path.join(tmp, "pa.parquet"), compression="zstd",
                                   row_group_size=65536))
size = lambda n: os.path.getsize(os.path.join(tmp, n)) / 1e6
print(f"rows {rows}")
print(f"furrow   {furrow_s:.3f} s  {rows / furrow_s / 1e6:.2f} M rows/s  {size('furrow.parquet'):.1f} MB")
print(f"geopandas {gp_s:.3f} s  {rows / gp_s / 1e6:.2f} M rows/s  {size('gp.parquet'):.1f} MB (to_parquet, zstd, covering bbox)")
print(f"pyarrow  {pa_s:.3f} s  {rows / pa_s / 1e6:.2f} M rows/s  {size('pa.parquet'):.1f} MB (write_table of the same table, WKB already encoded)")
print(f"ratio furrow/geopandas {gp_s / furrow_s:.2f}x, furrow/pyarrow {pa_s / furrow_s:.2f}x")
PY
