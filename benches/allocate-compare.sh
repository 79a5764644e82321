#!/usr/bin/env bash
# Allocation peers side by side: furrow, GeoPandas sjoin, DuckDB spatial and SedonaDB on the same synthetic data,
# in one run, with a point-by-point check of the assignments. Python packages go to a venv outside the clone.
#   FURROW_COMPARE_FIELDS (1000), FURROW_COMPARE_POINTS (5000000)
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${FURROW_CACHE:-$HOME/.cache/furrow}"
venv="$cache/venv-allocate-peers"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
fi
"$venv/bin/pip" install --quiet numpy shapely geopandas pyarrow 'duckdb==1.5.5' 'duckdb-extension-spatial==1.5.5' sedonadb geoarrow-pyarrow
export FURROW_COMPARE_DIR="${FURROW_COMPARE_DIR:-$cache/allocate-compare}"
cargo bench -p furrow-benches --bench allocate-compare
"$venv/bin/python" benches/allocate-peers.py "$FURROW_COMPARE_DIR"
