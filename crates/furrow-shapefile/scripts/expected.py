#!/usr/bin/env python3
"""Expected values for furrow-shapefile's tests, from GeoPandas/pyproj (the reference).

  python3 scripts/expected.py crs            # reprojected points of the synthetic .prj cases (tests/it/synthetic.rs)
  python3 scripts/expected.py corpus DIR...  # per set: records, bbox of points (or polygon bounds) in WGS 84

`pip install geopandas pyogrio` first. The corpus form reads folders where the zips were unpacked
(the tests unpack them the same way) and prints a TSV: relative .shp path, records, geometry kind,
min lon, min lat, max lon, max lat (of the polygons for polygon sets: GeoPandas' total_bounds after
to_crs(4326)).
"""
import sys
from pathlib import Path

PRJ = {
    "nad83_utm15n": 'PROJCS["NAD_1983_UTM_Zone_15N",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-93.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
    "unknown_datum_utm15n": 'PROJCS["UTM_Zone_15_Northern_Hemisphere",GEOGCS["GCS_unknown",DATUM["D_unknown",SPHEROID["Clarke_1866",6378206.4,294.9786982]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-93.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
    "wgs84_utm15n_ogc": 'PROJCS["WGS 84 / UTM zone 15N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-93],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32615"]]',
    "iowa_south_ftus": 'PROJCS["NAD_1983_StatePlane_Iowa_South_FIPS_1402_Feet",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",1640416.666666667],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-93.5],PARAMETER["Standard_Parallel_1",40.61666666666667],PARAMETER["Standard_Parallel_2",41.78333333333333],PARAMETER["Latitude_Of_Origin",40.0],UNIT["Foot_US",0.3048006096012192]]',
    "arizona_central_ft": 'PROJCS["NAD_1983_StatePlane_Arizona_Central_FIPS_0202_Feet_Intl",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-111.9166666666667],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",31.0],UNIT["Foot",0.3048]]',
    "etrs89_utm32n": 'PROJCS["ETRS_1989_UTM_Zone_32N",GEOGCS["GCS_ETRS_1989",DATUM["D_ETRS_1989",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
    "web_mercator": 'PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]',
}

# Source points per case (in the CRS's units), chosen inside each zone.
POINTS = {
    "nad83_utm15n": [(446000.0, 4612000.0), (447250.5, 4613500.25)],
    "unknown_datum_utm15n": [(446000.0, 4612000.0), (447250.5, 4613500.25)],
    "wgs84_utm15n_ogc": [(446000.0, 4612000.0), (447250.5, 4613500.25)],
    "iowa_south_ftus": [(1650000.0, 560000.0), (1652345.5, 561234.75)],
    "arizona_central_ft": [(700000.0, 900000.0), (712345.5, 901234.75)],
    "etrs89_utm32n": [(500000.0, 5500000.0), (512345.5, 5512345.75)],
    "web_mercator": [(-10408000.0, 5112000.0), (-10409250.5, 5113500.25)],
}


def crs_cases():
    from pyproj import CRS, Transformer

    for name, wkt in PRJ.items():
        t = Transformer.from_crs(CRS.from_wkt(wkt), CRS.from_epsg(4326), always_xy=True)
        for x, y in POINTS[name]:
            lon, lat = t.transform(x, y)
            print(f'    ("{name}", {x!r}, {y!r}, {lon!r}, {lat!r}),')


def corpus(dirs):
    import geopandas as gpd

    for d in dirs:
        base = Path(d)
        for shp in sorted(p for p in base.rglob("*") if p.suffix.lower() == ".shp"):
            g = gpd.read_file(shp)
            if g.crs is not None:
                g = g.to_crs(4326)
            kind = "polygon" if g.geom_type.isin(["Polygon", "MultiPolygon"]).all() else "point"
            b = [float(v) for v in g.total_bounds]
            print(f"{shp.relative_to(base)}\t{len(g)}\t{kind}\t{b[0]!r}\t{b[1]!r}\t{b[2]!r}\t{b[3]!r}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["crs"]:
        crs_cases()
    elif sys.argv[1:2] == ["corpus"]:
        corpus(sys.argv[2:])
    else:
        sys.exit(__doc__)
