"""Chapter 2.2: crystal structure to density of states (Xtal2DoS and its baselines), thesis Tables 2.3-2.7.

Modules: ``batch`` (the graph format every model reads), ``elements`` (element features), ``graphs`` (crystal
graphs from pymatgen structures), ``phonon`` (the phonon DoS set), ``mp`` (Materials Project electronic DoS
ingestion and binning), ``prepare`` (graphs + spectra + split on disk), ``synthetic`` (synthetic crystals),
``xtal2dos`` / ``decoders`` / ``gatgnn`` / ``mat2spec`` / ``e3nn_net`` (models), ``train`` (one run),
``report`` (thesis comparison), ``benchmark`` (Table 2.7), ``figures`` (Figure 2.16).
"""
