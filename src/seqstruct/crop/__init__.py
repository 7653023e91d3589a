"""Crop yield (thesis ch. 2.1): raw county-year data, the county graph, the prepared NetCDF and the GNN-RNN models.

Modules: ``layout`` (column layouts of the raw arrays), ``raw`` (validated readers of the raw files),
``counties`` (Census adjacency, loc_ID -> FIPS mapping, county geometry), ``prepare`` (the county x year
NetCDF that models read).
"""
