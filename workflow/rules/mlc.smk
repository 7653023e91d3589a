# Chapter 2.3: multi-label classification (C-GMVAE and its baselines), thesis Tables 2.8-2.11.
# The chapter owns its wildcard constraints, helpers (mlc_helpers.smk), rules and mlc_targets() / mlc_tables()
# (see docs/adding-a-domain.md). A data set is any entry of config mlc.datasets: registry id + raw format.


include: "mlc_helpers.smk"


# The synthetic stand-in and the tables take seconds: on a cluster they run where Snakemake runs.
localrules:
    synthesize_mlc,
    mlc_dataset_runs,
    mlc_table,
    mlc_statistics,
    mlc_fraction_figure,


rule synthesize_mlc:
    output:
        "resources/raw/synthetic_mlc/{dataset}-train.arff",
        "resources/raw/synthetic_mlc/{dataset}-test.arff",
        "resources/raw/synthetic_mlc/{dataset}.xml",
    log:
        "logs/synthesize_mlc/{dataset}.log",
    benchmark:
        "benchmarks/synthesize_mlc/{dataset}.tsv"
    wildcard_constraints:
        **MLC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        settings=lambda wc: {
            **MLC["synthetic"],
            **MLC["datasets"][wc.dataset].get("synthetic", {}),
        },
    script:
        "../scripts/synthesize_mlc.py"


rule prepare_mlc:
    input:
        unpack(mlc_prepare_inputs),
    output:
        [f"results/data/mlc/{{dataset}}/{name}" for name in MLC_PREPARED_FILES],
    log:
        "logs/prepare_mlc/{dataset}.log",
    benchmark:
        "benchmarks/prepare_mlc/{dataset}.tsv"
    wildcard_constraints:
        **MLC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        format=lambda wc: MLC["datasets"][wc.dataset]["format"],
        options=lambda wc: MLC["datasets"][wc.dataset].get("options", {}),
        roles=lambda wc: list(mlc_files(wc.dataset)),
        registry_sha256=mlc_checksums,
        seed=MLC["split_seed"],
    script:
        "../scripts/prepare_mlc.py"


rule select_mlc:
    input:
        data=lambda wc: mlc_prepared(wc.dataset),
    output:
        "results/models/mlc/{method}/{dataset}/selection.json",
    log:
        "logs/select_mlc/{method}/{dataset}.log",
    benchmark:
        "benchmarks/select_mlc/{method}/{dataset}.tsv"
    wildcard_constraints:
        **MLC_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpu_unless(MLC_DETERMINISTIC),
    params:
        base=lambda wc: mlc_settings(wc.method, wc.dataset),
        grid=lambda wc: mlc_grid(wc.method, wc.dataset),
        metric=MLC["grid_metric"],
        seed=config["seeds"][0],
    script:
        "../scripts/select_mlc.py"


rule train_mlc:
    input:
        data=lambda wc: mlc_prepared(wc.dataset),
        selection=lambda wc: f"results/models/mlc/{mlc_base(wc.run)}/{wc.dataset}/selection.json",
    output:
        metrics="results/models/mlc/{run}/{dataset}/seed{seed}/metrics.json",
        scores="results/models/mlc/{run}/{dataset}/seed{seed}/scores.npz",
    log:
        "logs/train_mlc/{run}/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/train_mlc/{run}/{dataset}/seed{seed}.tsv"
    wildcard_constraints:
        **MLC_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpu_unless(MLC_DETERMINISTIC, lambda wc: mlc_base(wc.run)),
    params:
        method=lambda wc: mlc_base(wc.run),
        variant=lambda wc: mlc_variant_params(wc.run),
        ckpt="results/ckpt/mlc/{run}/{dataset}/seed{seed}",
    script:
        "../scripts/train_mlc.py"


rule mlc_dataset_runs:
    input:
        metrics=lambda wc: mlc_dataset_metrics(wc.dataset),
    output:
        "results/models/mlc/{dataset}.runs.csv",
    log:
        "logs/mlc_dataset_runs/{dataset}.log",
    wildcard_constraints:
        **MLC_WILDCARDS,
    conda:
        CONDA_ENV
    script:
        "../scripts/mlc_runs.py"


rule mlc_table:
    input:
        metrics=mlc_table_metrics,
        selections=mlc_table_selections,
        raw=mlc_table_raw,
        verified=mlc_table_stamps,
        thesis=lambda wc: (
            f"config/thesis/{wc.table}.csv" if wc.table != "mlc_extras" else []
        ),
    output:
        table=report(
            "results/tables/{table}.csv",
            caption="../report/mlc_table.rst",
            category="Thesis tables",
        ),
        meta="results/tables/{table}.meta.json",
        report=report(
            "results/reports/{table}.md",
            caption="../report/mlc_report.rst",
            category="Thesis tables",
        ),
    log:
        "logs/mlc_table/{table}.log",
    benchmark:
        "benchmarks/mlc_table/{table}.tsv"
    wildcard_constraints:
        **MLC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        scale=config["scale"],
        mlc=MLC,
        names=mlc_table_names,
        rows=lambda wc: mlc_table_rows(wc.table),
        variants=lambda wc: {
            run: MLC_VARIANTS[run]
            for run in mlc_table_rows(wc.table).values()
            if run in MLC_VARIANTS
        },
        registry=config["registry"],
    script:
        "../scripts/mlc_table.py"


rule mlc_statistics:
    input:
        info=lambda wc: [
            f"results/data/mlc/{d}/info.json" for d in MLC["table_datasets"]
        ],
        raw=mlc_table_raw,
        verified=mlc_table_stamps,
        thesis="config/thesis/table2_11.csv",
    output:
        table=report(
            "results/tables/table2_11.csv",
            caption="../report/mlc_statistics.rst",
            category="Thesis tables",
        ),
        meta="results/tables/table2_11.meta.json",
        report=report(
            "results/reports/table2_11.md",
            caption="../report/mlc_statistics.rst",
            category="Thesis tables",
        ),
    log:
        "logs/mlc_statistics/table2_11.log",
    benchmark:
        "benchmarks/mlc_statistics/table2_11.tsv"
    conda:
        CONDA_ENV
    params:
        scale=config["scale"],
        mlc=MLC,
        registry=config["registry"],
    script:
        "../scripts/mlc_statistics.py"


rule mlc_fraction_figure:
    input:
        metrics=mlc_fraction_metrics,
    output:
        figure=report(
            "results/figures/figure2_20.png",
            caption="../report/mlc_fractions.rst",
            category="Figures",
        ),
        table=report(
            "results/tables/mlc_fractions.csv",
            caption="../report/mlc_fractions.rst",
            category="Figures",
        ),
    log:
        "logs/mlc_fraction_figure/figure2_20.log",
    benchmark:
        "benchmarks/mlc_fraction_figure/figure2_20.tsv"
    conda:
        CONDA_ENV
    params:
        reference=lookup(dpath="mlc/fractions/reference", within=config),
    script:
        "../scripts/mlc_fraction_figure.py"


rule mlc_embedding_figure:
    input:
        data=lambda wc: mlc_prepared(wc.dataset),
        selection="results/models/mlc/cgmvae/{dataset}/selection.json",
    output:
        figure=report(
            "results/figures/figure2_19_{dataset}.png",
            caption="../report/mlc_embeddings.rst",
            category="Figures",
        ),
        embeddings="results/models/mlc_figure2_19/{dataset}/label_embeddings.npy",
        metrics="results/models/mlc_figure2_19/{dataset}/metrics.json",
    log:
        "logs/mlc_embedding_figure/{dataset}.log",
    benchmark:
        "benchmarks/mlc_embedding_figure/{dataset}.tsv"
    wildcard_constraints:
        **MLC_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        seed=config["seeds"][0],
        max_labels=lookup(dpath="mlc/embedding_figure/max_labels", within=config),
    script:
        "../scripts/mlc_embedding_figure.py"
