"""Multi-label classification (thesis ch. 2.3): C-GMVAE and its baselines on the Mulan sets, Reuters and SIDER.

C-GMVAE models the labels of a sample with a Gaussian-mixture VAE whose mixture components are tied to learned
label embeddings, trained with a contrastive loss between feature and label embeddings; the baselines are the
binary-relevance and deep multi-label models of the thesis tables 2.8-2.14. Modules: ``arff`` (validated reader
of Mulan ARFF + label XML files into features and a 0/1 label matrix), ``binary_relevance`` (BR) and ``mlknn``
(ML-kNN, written here: scikit-multilearn's does not run with the pinned scikit-learn), ``prepare``
(pooled Mulan files, seeded 80/10/10 index files, Table 2.11 statistics) and ``synthetic`` (a Mulan-format
stand-in with planted label structure, for tests and the offline demo), ``reuters`` (Reuters-21578 SGML, the
ModApte 90-category set, TF-IDF over the training vocabulary), ``cgmvae``, ``mpvae`` and ``asl`` (the models and
their losses), ``train`` (one run: fit, epoch and threshold chosen on validation, test scored, run record written).
"""
