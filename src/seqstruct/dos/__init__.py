"""Chapter 2.2: crystal structure to density of states (Xtal2DoS and its baselines), thesis Tables 2.3-2.7.

Modules: ``batch`` (the graph format every model reads), ``elements`` (element features), ``graphs`` (crystal
graphs from pymatgen structures), ``phonon`` (the phonon DoS CSV and the tutorial split), ``edos`` (binning an
electronic DoS onto the thesis' 128-point grid), ``mp`` (Materials Project download, the raw eDoS CSV),
``formats`` (raw formats and their files), ``prepare`` (graphs + spectra + split on disk), ``synthetic``
(synthetic crystals), ``xtal2dos`` / ``decoders`` / ``gatgnn`` / ``mat2spec`` / ``e3nn_net`` (models, by slug in
``models``), ``train`` (one run), ``search`` (validation grid), ``report`` (tables beside the thesis),
``benchmark`` (Table 2.7), ``figures`` (Figures 2.16 / 2.17).
"""
