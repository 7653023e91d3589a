# Chapter 3.1: DAPC self-supervised sequence representations: noisy Lorenz recovery (thesis Tables 3.1-3.4,
# Figure 3.2) and forecasting on real series (Tables 3.5/3.6, Figure 3.5).
# The chapter owns its wildcard constraints, helpers (dapc_helpers.smk), rules and dapc_targets() / dapc_tables()
# (see docs/adding-a-domain.md). A run is any entry of config dapc.methods: a model plus its settings.


include: "dapc_helpers.smk"


# Generating the data and making the tables take seconds: on a cluster they run where Snakemake runs.
localrules:
    prepare_dapc_lorenz,
    prepare_dapc_series,
    dapc_table,
    dapc_forecast_table,


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


rule prepare_dapc_series:
    input:
        unpack(dapc_series_inputs),
    output:
        [f"results/data/dapc/{{series}}/{name}" for name in DAPC_PREPARED_FILES],
    log:
        "logs/prepare_dapc_series/{series}.log",
    benchmark:
        "benchmarks/prepare_dapc_series/{series}.tsv"
    wildcard_constraints:
        **DAPC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        spec=lambda wc: DAPC_SERIES[wc.series],
        roles=lambda wc: list(dapc_series_files(wc.series)),
        registry_sha256=dapc_series_checksums,
    script:
        "../scripts/prepare_dapc_series.py"


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
        settings=lambda wc: dapc_params(wc.method, wc.dataset),
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


rule dapc_forecast_table:
    input:
        metrics=dapc_forecast_metrics,
        data=lambda wc: [
            f"results/data/dapc/{s}/info.json"
            for s in DAPC_FORECAST_TABLES[wc.ftable]["series"]
        ],
        thesis="config/thesis/{ftable}.csv",
    output:
        table=report(
            "results/tables/{ftable}.csv",
            caption="../report/dapc_forecast_table.rst",
            category="Thesis tables",
        ),
        meta="results/tables/{ftable}.meta.json",
        report=report(
            "results/reports/{ftable}.md",
            caption="../report/dapc_report.rst",
            category="Thesis tables",
        ),
    log:
        "logs/dapc_forecast_table/{ftable}.log",
    benchmark:
        "benchmarks/dapc_forecast_table/{ftable}.tsv"
    wildcard_constraints:
        **DAPC_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        scale=config["scale"],
        dapc=DAPC,
        spec=lambda wc: DAPC_FORECAST_TABLES[wc.ftable],
        names=lambda wc: [row for _, row, _ in dapc_forecast_runs(wc.ftable)],
        series=lambda wc: [s for _, _, s in dapc_forecast_runs(wc.ftable)],
        raw=lambda wc: [
            f"resources/raw/{DAPC_SERIES[s]['registry']}/{f}"
            for s in DAPC_FORECAST_TABLES[wc.ftable]["series"]
            for f in DAPC_SERIES[s]["files"].values()
        ],
    script:
        "../scripts/dapc_forecast_table.py"


rule dapc_forecast_figure:
    input:
        metrics=[f"{run}/metrics.json" for run, _, _ in dapc_figure_runs()],
    output:
        figure=report(
            "results/figures/figure3_5.png",
            caption="../report/dapc_forecast.rst",
            category="Figures",
        ),
    log:
        "logs/dapc_forecast_figure/figure3_5.log",
    benchmark:
        "benchmarks/dapc_forecast_figure/figure3_5.tsv"
    conda:
        CONDA_ENV
    params:
        names=[row for _, row, _ in dapc_figure_runs()],
        series=[s for _, _, s in dapc_figure_runs()],
        labels={s: spec.get("label", s) for s, spec in DAPC_SERIES.items()},
        baseline=DAPC.get("forecast_figure", {}).get("baseline"),
    script:
        "../scripts/dapc_forecast_figure.py"


rule dapc_dims_figure:
    input:
        metrics=[f"{run}/metrics.json" for run, _, _ in dapc_dims_runs()],
    output:
        figure=report(
            "results/figures/figure3_6.png",
            caption="../report/dapc_dims.rst",
            category="Figures",
        ),
    log:
        "logs/dapc_dims_figure/figure3_6.log",
    benchmark:
        "benchmarks/dapc_dims_figure/figure3_6.tsv"
    conda:
        CONDA_ENV
    params:
        names=[row for _, row, _ in dapc_dims_runs()],
        dims=[d for _, _, d in dapc_dims_runs()],
        series=(DAPC.get("dims_figure") or {}).get("series"),
        label=lambda wc: DAPC_SERIES[DAPC["dims_figure"]["series"]].get("label", ""),
        baseline=(DAPC.get("dims_figure") or {}).get("baseline"),
    script:
        "../scripts/dapc_dims_figure.py"
