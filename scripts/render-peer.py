#!/usr/bin/env python3
"""Peer figure for benches/benches/render.rs: the same synthetic 1 M swath polygons drawn with GeoPandas
`plot` + matplotlib `savefig` into a 2,048 px PNG, with Leaf's 7 quantile classes.

    pip install geopandas matplotlib
    python3 scripts/render-peer.py [OUT.png] [--rounds N]

Prints one JSON line per round: seconds to build the polygons, to reproject them to EPSG:3857 (furrow's PNG
projection), to `plot` and to `savefig`, and `render_s` = plot + savefig, the figure compared with furrow's
`render_png` (whose input is lon/lat points and swaths, and which projects as it draws).
"""

import json
import sys
import time

import numpy as np

# Keep in step with benches/benches/render.rs.
PASSES = 400
PER_PASS = 2_500
WIDTH_M = 12.0
STEP_M = 2.0
TILT_DEG = 10.0
LON0 = -93.50
LAT0 = 41.76
M_PER_DEG = 6_378_137.0 * np.pi / 180.0
LEAF_COLOURS = ["#C80000", "#FF2800", "#FF9600", "#FFF000", "#00E600", "#00BE00", "#008200"]


def field():
    sin, cos = np.sin(np.radians(TILT_DEG)), np.cos(np.radians(TILT_DEG))
    m_per_lon = M_PER_DEG * np.cos(np.radians(LAT0))
    p = np.repeat(np.arange(PASSES), PER_PASS)
    k = np.tile(np.arange(PER_PASS), PASSES)
    i = p * PER_PASS + k
    along = np.where(p % 2 == 0, k + 0.5, PER_PASS - k - 0.5) * STEP_M
    across = (p + 0.5) * WIDTH_M
    e = along * cos - across * sin
    n = along * sin + across * cos
    da, dc = STEP_M / 2.0, WIDTH_M / 2.0
    corners = []
    for a, c in [(-da, -dc), (da, -dc), (da, dc), (-da, dc), (-da, -dc)]:
        ce = e + a * cos - c * sin
        cn = n + a * sin + c * cos
        corners.append(np.stack([LON0 + ce / m_per_lon, LAT0 + cn / M_PER_DEG], axis=-1))
    rings = np.stack(corners, axis=1)  # (n, 5, 2)
    noise = ((i.astype(np.uint64) * np.uint64(2_654_435_761)) % np.uint64(1 << 32)).astype(np.float64)
    noise = noise / 4_294_967_296.0 - 0.5
    strip = np.where((p >= 150) & (p < 160), 3.0, 0.0)
    values = 8.0 + 2.0 * np.sin(e / 300.0) * np.cos(n / 200.0) + strip + noise
    return rings, values


def quantile_bounds(values, count=7):
    """leaf-images.md §3.2: break k = v[floor(k·n/7)], equal breaks merged."""
    v = np.sort(values[np.isfinite(values)])
    n = len(v)
    b = [v[0]] + [v[(k * n) // count] for k in range(1, count)] + [v[-1]]
    return np.unique(b)


def main():
    import geopandas as gpd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shapely
    from matplotlib.colors import BoundaryNorm, ListedColormap

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = args[0] if args else "render-peer.png"
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 1
    for r in range(rounds):
        t0 = time.perf_counter()
        rings, values = field()
        polys = shapely.polygons(rings)
        gdf = gpd.GeoDataFrame({"value": values}, geometry=polys, crs="EPSG:4326")
        t1 = time.perf_counter()
        gdf = gdf.to_crs("EPSG:3857")
        t2 = time.perf_counter()
        bounds = quantile_bounds(values)
        cmap = ListedColormap(LEAF_COLOURS[: len(bounds) - 1])
        norm = BoundaryNorm(bounds, cmap.N)
        xmin, ymin, xmax, ymax = gdf.total_bounds
        w, h = xmax - xmin, ymax - ymin
        side = 2048 / 100
        fig = plt.figure(figsize=(side, side * h / w) if w >= h else (side * w / h, side), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.set_axis_off()
        gdf.plot(ax=ax, column="value", cmap=cmap, norm=norm, linewidth=0, antialiased=False)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        t3 = time.perf_counter()
        fig.savefig(out, transparent=True, dpi=100)
        t4 = time.perf_counter()
        plt.close(fig)
        print(
            json.dumps(
                {
                    "round": r,
                    "points": len(values),
                    "build_s": round(t1 - t0, 3),
                    "to_crs_s": round(t2 - t1, 3),
                    "plot_s": round(t3 - t2, 3),
                    "savefig_s": round(t4 - t3, 3),
                    "render_s": round(t4 - t2, 3),
                    "out": out,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
