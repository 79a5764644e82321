"""Runs DuckDB spatial, GeoPandas and SedonaDB on the data set written by the allocate-compare bench, checks
that each assigns exactly the same points to the same fields as furrow, and prints the speed ratios.

Usage: python allocate-peers.py DIR   (DIR holds fields.geojson, xs.f64, ys.f64, furrow.u32, furrow.json)
"""
import glob
import json
import os
import sys
import time

import numpy as np

OUTSIDE = 0xFFFFFFFF


def load(d):
    xs = np.fromfile(os.path.join(d, "xs.f64"), dtype="<f8")
    ys = np.fromfile(os.path.join(d, "ys.f64"), dtype="<f8")
    furrow = np.fromfile(os.path.join(d, "furrow.u32"), dtype="<u4")
    with open(os.path.join(d, "fields.geojson")) as f:
        fc = json.load(f)
    with open(os.path.join(d, "furrow.json")) as f:
        report = json.load(f)
    return xs, ys, furrow, fc, report


def assignment(n, point_idx, field_idx):
    """Lowest field index per point (furrow's rule for overlaps), OUTSIDE elsewhere."""
    out = np.full(n, OUTSIDE, dtype=np.uint64)
    np.minimum.at(out, np.asarray(point_idx, dtype=np.int64), np.asarray(field_idx, dtype=np.uint64))
    return out.astype(np.uint32)


def run_geopandas(xs, ys, fc):
    import geopandas as gpd

    fields = gpd.GeoDataFrame.from_features(fc["features"])
    fields["fidx"] = np.arange(len(fields))
    pts = gpd.GeoDataFrame({"pidx": np.arange(len(xs))}, geometry=gpd.points_from_xy(xs, ys))
    t = time.perf_counter()
    j = gpd.sjoin(pts, fields, predicate="within", how="inner")
    elapsed = time.perf_counter() - t
    return elapsed, assignment(len(xs), j["pidx"].to_numpy(), j["fidx"].to_numpy())


def spatial_extension_path():
    import duckdb_extension_spatial

    base = os.path.dirname(duckdb_extension_spatial.__file__)
    hits = glob.glob(os.path.join(base, "**", "*.duckdb_extension"), recursive=True)
    if not hits:
        raise RuntimeError(f"no .duckdb_extension file under {base}")
    return hits[0]


def run_duckdb(xs, ys, fc, threads):
    import duckdb
    import pyarrow as pa
    from shapely.geometry import shape

    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute(f"LOAD '{spatial_extension_path()}'")
    pts = pa.table({"pidx": np.arange(len(xs), dtype=np.int64), "x": xs, "y": ys})
    wkts = [shape(f["geometry"]).wkt for f in fc["features"]]
    flds = pa.table({"fidx": np.arange(len(wkts), dtype=np.int64), "wkt": wkts})
    con.register("pts_arrow", pts)
    con.register("flds_arrow", flds)
    con.execute("CREATE TABLE points AS SELECT pidx, ST_Point(x, y) AS geom FROM pts_arrow")
    con.execute("CREATE TABLE fields AS SELECT fidx, ST_GeomFromText(wkt) AS geom FROM flds_arrow")
    t = time.perf_counter()
    res = con.execute(
        "SELECT p.pidx, f.fidx FROM points p JOIN fields f ON ST_Contains(f.geom, p.geom)"
    ).fetchnumpy()
    elapsed = time.perf_counter() - t
    return elapsed, assignment(len(xs), res["pidx"], res["fidx"])


def run_sedonadb(xs, ys, fc, threads):
    import pyarrow as pa
    import sedonadb
    from shapely.geometry import shape

    sd = sedonadb.connect()
    sd.sql(f"SET datafusion.execution.target_partitions = {threads}").execute()
    pts = pa.table({"pidx": np.arange(len(xs), dtype=np.int64), "x": xs, "y": ys})
    wkts = [shape(f["geometry"]).wkt for f in fc["features"]]
    flds = pa.table({"fidx": np.arange(len(wkts), dtype=np.int64), "wkt": wkts})
    sd.create_data_frame(pts).to_view("pts_raw")
    sd.create_data_frame(flds).to_view("flds_raw")
    sd.sql("SELECT pidx, ST_SetSRID(ST_Point(x, y), 4326) AS geom FROM pts_raw").to_memtable().to_view("points")
    sd.sql("SELECT fidx, ST_SetSRID(ST_GeomFromWKT(wkt), 4326) AS geom FROM flds_raw").to_memtable().to_view("fields")
    t = time.perf_counter()
    res = sd.sql(
        "SELECT p.pidx, f.fidx FROM points p JOIN fields f ON ST_Contains(f.geom, p.geom)"
    ).to_arrow_table()
    elapsed = time.perf_counter() - t
    return elapsed, assignment(len(xs), res["pidx"].to_numpy(), res["fidx"].to_numpy())


def main():
    d = sys.argv[1]
    xs, ys, furrow, fc, report = load(d)
    n = len(xs)
    f1 = report["furrow_1_thread_s"]
    f2 = report["furrow_2_thread_s"]
    print(f"data: {report['fields']} fields, {n} points, {report['inside']} inside a field")
    print(f"| engine | threads | seconds | points/s | furrow (same threads) is faster by | same assignment |")
    print(f"|---|---|---|---|---|---|")
    print(f"| furrow | 1 | {f1:.3f} | {n / f1 / 1e6:.1f} M | — | — |")
    print(f"| furrow | 2 | {f2:.3f} | {n / f2 / 1e6:.1f} M | — | — |")
    failures = 0
    peers = [
        ("GeoPandas sjoin", 1, lambda: run_geopandas(xs, ys, fc)),
        ("DuckDB spatial", 1, lambda: run_duckdb(xs, ys, fc, 1)),
        ("DuckDB spatial", 2, lambda: run_duckdb(xs, ys, fc, 2)),
        ("SedonaDB", 1, lambda: run_sedonadb(xs, ys, fc, 1)),
        ("SedonaDB", 2, lambda: run_sedonadb(xs, ys, fc, 2)),
    ]
    for name, threads, run in peers:
        try:
            secs, got = run()
        except Exception as e:  # a peer that cannot run is reported, not hidden
            print(f"| {name} | {threads} | error: {type(e).__name__}: {str(e)[:120]} | | | |")
            failures += 1
            continue
        mismatches = int(np.count_nonzero(got != furrow))
        ours = f1 if threads == 1 else f2
        print(f"| {name} | {threads} | {secs:.3f} | {n / secs / 1e6:.2f} M | {secs / ours:.1f}x | "
              f"{'yes' if mismatches == 0 else f'NO: {mismatches} points differ'} |")
        failures += mismatches > 0
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
