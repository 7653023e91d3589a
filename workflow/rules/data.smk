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


# Every rule that reads raw files takes their stamps (raw_stamp): the file is checked against the registry
# whenever it or its registry entry changed, so a modified file stops the run before anything reads it.
localrules:
    verify_raw,


rule verify_raw:
    input:
        "resources/raw/{dataset}/{filename}",
    output:
        "resources/verified/{dataset}/{filename}.json",
    log:
        "logs/verify_raw/{dataset}/{filename}.log",
    wildcard_constraints:
        dataset="|".join(sorted(REGISTRY)),
    conda:
        CONDA_ENV
    params:
        registry=config["registry"],
        sha256=lambda wc: REGISTRY[wc.dataset].sha256_of(wc.filename),
    shell:
        "python -m seqstruct.data.verify {wildcards.dataset} {wildcards.filename} --stamp {output}"
        " --raw-dir resources/raw --registry {params.registry} > {log} 2>&1"
        " || (tail -n 1 {log} >&2; exit 1)"
