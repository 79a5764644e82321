#!/usr/bin/env bash
# Reads every GeoParquet file `furrow convert` writes for the ISOXML corpus (the repository's samples when the
# shared corpus is not there) with GeoPandas and DuckDB spatial
# and checks row counts, CRS, bounds and the time span of the clock columns against the summary. Exits
# non-zero on any mismatch; prints how many files it checked.
#
# The Python venv is cached outside the clone: ${FURROW_CACHE:-$HOME/.cache/furrow}/venv.
# Usage: scripts/check-geoparquet.sh [OUT_DIR]   (run from anywhere inside the repository)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${FURROW_SHARED_DIR:-$repo/../shared}/isoxml-corpus"
cache="${FURROW_CACHE:-$HOME/.cache/furrow}"
venv="$cache/venv"
out="${1:-$(mktemp -d)}"

if [ ! -d "$corpus" ]; then
    # A clone without the team's shared folder checks the repository's own samples.
    echo "check-geoparquet: no corpus at $corpus; checking samples/isoxml" >&2
    corpus="$repo/samples/isoxml"
fi

if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$cache"
    python3 -m venv "$venv"
fi
# pinned: duckdb-extension-spatial must match the duckdb version (its file is loaded by path, no download)
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    geopandas pyarrow shapely pyproj "duckdb==1.5.5" "duckdb-extension-spatial==1.5.5"

cd "$repo"
cargo build --quiet -p furrow-cli
furrow="${CARGO_TARGET_DIR:-$repo/target}/debug/furrow"

# Write samples: every corpus input with time logs, points (WKB), the filtered view and swath polygons.
n=0
while IFS= read -r -d '' input; do
    n=$((n + 1))
    "$furrow" convert "$input" -o "$out/wkb-$n" --polygons --filtered >/dev/null 2>&1 || true
done < <(
    find "$corpus" \( -iname '*.zip' -o -iname 'TASKDATA.XML' \) -print0 | sort -z |
        while IFS= read -r -d '' f; do
            case "$f" in
                *.zip|*.ZIP) printf '%s\0' "$f" ;;
                *) printf '%s\0' "$(dirname "$f")" ;;
            esac
        done
)
"$furrow" convert "$repo/samples/isoxml/isoxml-js/2021-04-09T15_33_26_taskdata.zip" -o "$out/single.parquet" >/dev/null

"$venv/bin/python" - "$out" <<'PY'
import datetime, glob, json, math, os, sys

import duckdb
import duckdb_extension_spatial
import geopandas as gpd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

out = sys.argv[1]
ext = os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "extensions",
                   "v" + duckdb.__version__, "spatial.duckdb_extension")
con = duckdb.connect()
con.sql(f"INSTALL '{ext}'")
con.sql("LOAD spatial")

files = sorted(glob.glob(os.path.join(out, "**", "*.parquet"), recursive=True))
failures, checked, clocked = [], 0, 0
EPOCH = datetime.datetime(1970, 1, 1)

def epoch_ms(text):
    # the summary's times: ISO 8601 with milliseconds, `Z` when UTC (else the logged local time)
    t = datetime.datetime.fromisoformat(text.removesuffix("Z"))
    return (t - EPOCH) // datetime.timedelta(milliseconds=1)

def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))

for path in files:
    problems = []
    polygons = path.endswith(".polygons.parquet")
    filtered = path.endswith(".filtered.parquet")
    if polygons:
        stem = path[: -len(".polygons.parquet")]
    elif filtered:
        stem = path[: -len(".filtered.parquet")]
    else:
        stem = path[: -len(".parquet")]
    summary = json.load(open(stem + ".summary.json"))
    summaries = summary if isinstance(summary, list) else [summary]
    count = "filtered" if filtered else "written"
    expected = sum(s["properties"]["pointCounts"][count] for s in summaries)
    meta = json.loads(pq.read_metadata(path).metadata[b"geo"])
    col = meta["columns"]["geometry"]

    gdf = gpd.read_parquet(path)
    if len(gdf) != expected:
        problems.append(f"geopandas rows {len(gdf)} != summary {expected}")
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    if crs != "OGC:CRS84":
        problems.append(f"geopandas CRS {crs}")
    if col.get("crs", {}).get("id") != {"authority": "OGC", "code": "CRS84"}:
        problems.append(f"geo crs id {col.get('crs', {}).get('id')}")
    want_types = ["Polygon"] if polygons else ["Point"]
    if col["geometry_types"] != want_types:
        problems.append(f"geometry_types {col['geometry_types']}")
    valid = gdf[~gdf.geometry.isna()]
    if len(valid):
        tb = valid.total_bounds
        if not all(close(a, b) for a, b in zip(tb, col["bbox"])):
            problems.append(f"bounds {list(tb)} != geo bbox {col['bbox']}")
        if not polygons:
            xy = [gdf["x"].min(), gdf["y"].min(), gdf["x"].max(), gdf["y"].max()]
            if not all(close(a, b) for a, b in zip(tb, xy)):
                problems.append(f"bounds {list(tb)} != x/y extent {xy}")

    row = con.sql(
        f"SELECT count(*), min(ST_XMin(geometry)), min(ST_YMin(geometry)), "
        f"max(ST_XMax(geometry)), max(ST_YMax(geometry)), "
        f"count(DISTINCT ST_GeometryType(geometry)) FILTER (WHERE geometry IS NOT NULL) "
        f"FROM read_parquet('{path}')"
    ).fetchone()
    if row[0] != expected:
        problems.append(f"duckdb rows {row[0]} != {expected}")
    if len(valid) and not all(close(a, b) for a, b in zip(row[1:5], col["bbox"])):
        problems.append(f"duckdb extent {row[1:5]} != geo bbox {col['bbox']}")
    if len(valid) and row[5] != 1:
        problems.append(f"duckdb geometry types {row[5]}")
    # the clock columns (DELTA_BINARY_PACKED) as both readers decode them span the summary's times
    names = pq.read_schema(path).names
    clocks = [c for c in ("timestamp", "localTime") if c in names]
    starts = [s["properties"].get("startTime") for s in summaries]
    ends = [s["properties"].get("endTime") for s in summaries]
    if clocks and not polygons and not filtered and all(starts) and all(ends):
        want = (min(map(epoch_ms, starts)), max(map(epoch_ms, ends)))
        t = pq.read_table(path, columns=clocks)
        ints = [pc.cast(t[c], pa.int64()) for c in clocks]
        both = pc.coalesce(*ints) if len(ints) > 1 else ints[0]
        got = (pc.min(both).as_py(), pc.max(both).as_py())
        if got != want:
            problems.append(f"pyarrow clock span {got} != summary {want}")
        expr = "coalesce(" + ", ".join(f'epoch_ms("{c}")' for c in clocks) + ")"
        got = con.sql(f"SELECT min({expr}), max({expr}) FROM read_parquet('{path}')").fetchone()
        if tuple(got) != want:
            problems.append(f"duckdb clock span {tuple(got)} != summary {want}")
        clocked += 1
    checked += 1
    if problems:
        failures.append((path, problems))

for path, problems in failures:
    print(f"FAIL {os.path.relpath(path, out)}: " + "; ".join(problems))
print(f"check-geoparquet: {checked} files checked ({clocked} clock spans), {len(failures)} failed")
if checked == 0 or clocked == 0 or failures:
    sys.exit(1)
PY
