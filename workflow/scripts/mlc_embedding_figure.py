"""Snakemake adapter: train C-GMVAE once (first seed, the validation-chosen settings) keeping its label
embeddings, and draw their inner products (thesis Figure 2.19) for the most frequent training labels."""

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.mlc.figures import plot_label_inner_products
from seqstruct.mlc.prepare import load_prepared
from seqstruct.mlc.train import run

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
data_dir = Path(snakemake.input.data[0]).parent
out_dir = Path(snakemake.output.embeddings).parent
run(
    "cgmvae",
    data_dir,
    int(snakemake.params.seed),
    read_json(snakemake.input.selection)["params"],
    out_dir,
    keep_model=True,
)
data = load_prepared(data_dir)
frequency = data.part("train")[1].sum(0)
top = np.argsort(-frequency, kind="stable")[: int(snakemake.params.max_labels)]
names = [data.info["label_names"][i] for i in top]
plot_label_inner_products(
    np.load(snakemake.output.embeddings)[top],
    names,
    snakemake.output.figure,
    title=f"C-GMVAE label-embedding inner products, {snakemake.wildcards.dataset} (diagonal removed)",
    max_labels=len(top),
)
