#!/usr/bin/env python3
"""GeoPandas side of the shapefile benchmark: read_file + to_parquet of the same John Deere exports that
`cargo bench -p furrow-benches --bench shapefile` converts to standard GeoParquet. Prints records per second
(best of N runs, wall and process CPU).

    pip install geopandas pyogrio pyarrow
    python3 scripts/shapefile-peer.py [runs]
"""
import os
import sys
import tempfile
import time
import zipfile

import geopandas as gpd

ROOT = os.path.join(os.path.dirname(__file__), "..", "samples", "shapefile", "john-deere", "Shapefiles")
SAMPLES = {
    "jd_harvest_points": "Export From MyJohnDeere - Harvest.zip",
    "gen4_harvest_polygons": "Gen4 - 4600 Harvest Data - Polygon - OneHertz.zip",
}


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        for name, z in SAMPLES.items():
            dest = os.path.join(tmp, name)
            with zipfile.ZipFile(os.path.join(ROOT, z)) as f:
                f.extractall(dest)
            shp = next(
                os.path.join(d, n)
                for d, _, files in os.walk(dest)
                for n in files
                if n.lower().endswith(".shp")
            )
            out = os.path.join(tmp, name + ".parquet")
            best_wall, best_cpu, rows = None, None, 0
            for _ in range(runs):
                t0, c0 = time.perf_counter(), time.process_time()
                df = gpd.read_file(shp)
                df.to_parquet(out)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                rows = len(df)
                best_wall = wall if best_wall is None else min(best_wall, wall)
                best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
            print(
                f"geopandas/{name}: {rows} records, {best_wall * 1e3:.1f} ms wall "
                f"({rows / best_wall / 1e6:.3f} M/s), {rows / best_cpu / 1e6:.3f} M records per CPU second"
            )


if __name__ == "__main__":
    main()
