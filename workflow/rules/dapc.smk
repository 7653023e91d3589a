# Chapter 3.1: DAPC self-supervised sequence representations (noisy Lorenz recovery), thesis Tables 3.1-3.4.
# The chapter owns its wildcard constraints, helpers (dapc_helpers.smk), rules and dapc_targets() / dapc_tables()
# (see docs/adding-a-domain.md). A run is any entry of config dapc.methods: a model plus its settings.


include: "dapc_helpers.smk"


# Generating the data and making the tables take seconds: on a cluster they run where Snakemake runs.
localrules:
    prepare_dapc_lorenz,
    dapc_table,


rule prepare_dapc_lorenz:
    output:
        [f"results/data/dapc/{{lorenz}}/{name}" for name in DAPC_PREPARED_FILES],
    log:
        "logs/prepare_dapc_lorenz/{lorenz}.log",
    benchmark:
        "benchmarks/prepare_dapc_lorenz/{lorenz}.tsv"
    wildcard_constraints:
        **DAPC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        snr=lambda wc: DAPC_LORENZ[wc.lorenz],
        lorenz=DAPC["lorenz"],
    script:
        "../scripts/prepare_dapc_lorenz.py"


rule train_dapc:
    input:
        data=lambda wc: dapc_prepared(wc.dataset),
    output:
        metrics="results/models/dapc/{method}/{dataset}/seed{seed}/metrics.json",
        latents="results/models/dapc/{method}/{dataset}/seed{seed}/latents.npz",
    log:
        "logs/train_dapc/{method}/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/train_dapc/{method}/{dataset}/seed{seed}.tsv"
    wildcard_constraints:
        **DAPC_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpu_unless(DAPC_DETERMINISTIC, lambda wc: dapc_model(wc.method)),
    params:
        model=lambda wc: dapc_model(wc.method),
        settings=lambda wc: dapc_params(wc.method),
        ckpt="results/ckpt/dapc/{method}/{dataset}/seed{seed}",
    script:
        "../scripts/train_dapc.py"


rule dapc_table:
    input:
        metrics=dapc_table_metrics,
        data=lambda wc: [f"results/data/dapc/{d}/info.json" for d in DAPC_LORENZ],
        thesis="config/thesis/{table}.csv",
    output:
        table=report(
            "results/tables/{table}.csv",
            caption="../report/dapc_table.rst",
            category="Thesis tables",
        ),
        meta="results/tables/{table}.meta.json",
        report=report(
            "results/reports/{table}.md",
            caption="../report/dapc_report.rst",
            category="Thesis tables",
        ),
    log:
        "logs/dapc_table/{table}.log",
    benchmark:
        "benchmarks/dapc_table/{table}.tsv"
    wildcard_constraints:
        **DAPC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        scale=config["scale"],
        dapc=DAPC,
        names=lambda wc: [row for _, row, _ in dapc_table_runs(wc.table)],
        snrs=lambda wc: [snr for _, _, snr in dapc_table_runs(wc.table)],
        rows=lambda wc: dict(DAPC["tables"][wc.table]),
    script:
        "../scripts/dapc_table.py"


rule dapc_lorenz_figure:
    input:
        data=[f"results/data/dapc/{d}/series.npz" for d in DAPC_LORENZ],
    output:
        figure=report(
            "results/figures/figure3_2_upper.png",
            caption="../report/dapc_lorenz.rst",
            category="Figures",
        ),
    log:
        "logs/dapc_lorenz_figure/figure3_2_upper.log",
    benchmark:
        "benchmarks/dapc_lorenz_figure/figure3_2_upper.tsv"
    conda:
        CONDA_ENV
    params:
        snrs=list(DAPC_LORENZ.values()),
    script:
        "../scripts/dapc_lorenz_figure.py"


rule dapc_latent_figure:
    input:
        latents=dapc_lorenz_latents,
    output:
        figure=report(
            "results/figures/figure3_2_lower_{lorenz}.png",
            caption="../report/dapc_latents.rst",
            category="Figures",
        ),
    log:
        "logs/dapc_latent_figure/{lorenz}.log",
    benchmark:
        "benchmarks/dapc_latent_figure/{lorenz}.tsv"
    wildcard_constraints:
        **DAPC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        snr=lambda wc: DAPC_LORENZ[wc.lorenz],
        rows=list(dapc_figure_rows()),
    script:
        "../scripts/dapc_latent_figure.py"
