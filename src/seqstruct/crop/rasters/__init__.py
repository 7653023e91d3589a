"""Raw raster ingestion for the crop chapter: readers of PRISM, NLDAS-2, gSSURGO, NLCD and NASS files in the
providers' formats, the county aggregation engine, and the assembly into the county-year layout the crop
models read (thesis section 2.1.4, "List of Features").

Modules
-------
grid        the :class:`Grid` / :class:`Raster` types every reader returns, and :class:`RasterDataError`
prism       PRISM daily 4 km (2025 COG zips and the older BIL zips)
nldas       NLDAS-2 NOAH and FORA hourly 0.125 degree (GRIB and NetCDF4)
gssurgo     gSSURGO map-unit rasters + attribute tables -> soil properties per map unit and depth layer
texture     the 12-class USDA soil texture triangle
nlcd        NLCD land cover -> cropland/pasture/grassland share on any grid
nass        NASS Quick Stats county yield CSV
aggregate   exact cell-coverage weights per county, weighted county means, daily -> 52 weeks
"""
