# Raw data: registry files (local copy -> $SEQSTRUCT_DATA_MIRROR -> public URL, sha256-checked; archive
# members extracted). Each domain's synthetic stand-in is written by a rule of its own .smk.


# Downloads need the network (often only on the login node). A failed fetch prints its one-line reason (the
# file, where it looked, what to obtain and where to put it) to Snakemake's output as well as to its log.
localrules:
    fetch_raw,


rule fetch_raw:
    output:
        "resources/raw/{dataset}/{filename}",
    log:
        "logs/fetch_raw/{dataset}/{filename}.log",
    benchmark:
        "benchmarks/fetch_raw/{dataset}/{filename}.tsv"
    wildcard_constraints:
        dataset="|".join(sorted(REGISTRY)),
    conda:
        CONDA_ENV
    params:
        registry=config["registry"],
    shell:
        "python -m seqstruct.data.fetch {wildcards.dataset} --file {wildcards.filename}"
        " --raw-dir resources/raw --registry {params.registry} > {log} 2>&1"
        " || (tail -n 1 {log} >&2; exit 1)"
