"""Chapter 3.1: DAPC, deep autoencoding predictive components (predictive information + masked reconstruction).

Modules: ``lorenz`` (the noisy Lorenz benchmark), ``series`` (the real forecasting series: temperatures and
hippocampus spikes), ``synthetic`` (stand-ins in the real raw formats), ``pi`` (the Gaussian predictive
information), ``masks``, ``encoders``, ``models`` (DAPC, probabilistic DAPC, CPC), ``linear`` (PCA, SFA, DCA),
``evaluate`` (R² of linear maps), ``train`` (one run), ``report`` and ``figures``.
"""
