# Chapter 2.2: crystal structure to density of states (Xtal2DoS and its baselines), thesis Tables 2.3-2.7.
# The chapter owns its wildcard constraints, helpers (dos_helpers.smk), rules and dos_targets() / dos_tables()
# (see docs/adding-a-domain.md). A data set is any entry of config dos.datasets: registry id, format, length.


include: "dos_helpers.smk"


# The synthetic stand-in, the MP download (needs the network, often only on the login node), the tables and
# the figure run where Snakemake runs.
localrules:
    synthesize_dos,
    fetch_mp_edos,
    dos_table,
    dos_figure,


rule synthesize_dos:
    output:
        "resources/raw/synthetic_dos/{dataset}.csv",
    log:
        "logs/synthesize_dos/{dataset}.log",
    benchmark:
        "benchmarks/synthesize_dos/{dataset}.tsv"
    wildcard_constraints:
        **DOS_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        settings=lambda wc: {
            **DOS["synthetic"],
            "n_points": DOS["datasets"][wc.dataset]["length"],
        },
    script:
        "../scripts/synthesize_dos.py"


# Materials Project electronic DoS: structures + total DoS of the ids in dos.edos.ids_file through mp-api
# (MP_API_KEY), one file per material under resources/raw/mp_edos/materials/ (a rerun fetches only what is
# missing), then binned onto 128 points over -4..4 eV into the raw CSV that prepare_dos reads.
rule fetch_mp_edos:
    input:
        ids=lambda wc: DOS["edos"]["ids_file"] or [],
    output:
        "resources/raw/mp_edos/edos.csv",
    log:
        "logs/fetch_mp_edos/edos.log",
    benchmark:
        "benchmarks/fetch_mp_edos/edos.tsv"
    conda:
        CONDA_ENV
    params:
        chunk_size=DOS["edos"]["chunk_size"],
        length=DOS["datasets"].get("edos", {}).get("length", 128),
    script:
        "../scripts/fetch_mp_edos.py"


rule prepare_dos:
    input:
        unpack(dos_prepare_inputs),
    output:
        [f"results/data/dos/{{dataset}}/{name}" for name in DOS_PREPARED_FILES],
    log:
        "logs/prepare_dos/{dataset}.log",
    benchmark:
        "benchmarks/prepare_dos/{dataset}.tsv"
    wildcard_constraints:
        **DOS_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        format=lambda wc: (
            "phonon_csv"
            if DOS["source"] == "synthetic"
            else DOS["datasets"][wc.dataset]["format"]
        ),
        length=lambda wc: DOS["datasets"][wc.dataset]["length"],
        graph=DOS["graph"],
        split=lambda wc: DOS["split"] if DOS["source"] == "real" else "random",
        seed=DOS["split_seed"],
        exclude_bad=DOS["exclude_bad"],
        registry_sha256=dos_checksums,
    script:
        "../scripts/prepare_dos.py"


rule select_dos:
    input:
        data=lambda wc: dos_prepared(wc.dataset),
    output:
        "results/models/dos/{method}/{dataset}/selection.json",
    log:
        "logs/select_dos/{method}/{dataset}.log",
    benchmark:
        "benchmarks/select_dos/{method}/{dataset}.tsv"
    wildcard_constraints:
        **DOS_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        base=lambda wc: DOS["methods"].get(wc.method, {}),
        grid=lambda wc: DOS["grids"].get(wc.method, {}),
        metric=DOS["grid_metric"],
        seed=config["seeds"][0],
    script:
        "../scripts/select_dos.py"


rule train_dos:
    input:
        data=lambda wc: dos_prepared(wc.dataset),
        selection="results/models/dos/{method}/{dataset}/selection.json",
    output:
        metrics="results/models/dos/{method}/{dataset}/seed{seed}/metrics.json",
        predictions="results/models/dos/{method}/{dataset}/seed{seed}/predictions.npz",
    log:
        "logs/train_dos/{method}/{dataset}/seed{seed}.log",
    benchmark:
        "benchmarks/train_dos/{method}/{dataset}/seed{seed}.tsv"
    wildcard_constraints:
        **DOS_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        ckpt="results/ckpt/dos/{method}/{dataset}/seed{seed}",
    script:
        "../scripts/train_dos.py"


rule dos_table:
    input:
        metrics=dos_table_metrics,
        selections=dos_table_selections,
        raw=dos_table_raw,
        verified=dos_table_stamps,
        thesis="config/thesis/{table}.csv",
    output:
        table=report(
            "results/tables/{table}.csv",
            caption="../report/dos_table.rst",
            category="Thesis tables",
        ),
        meta="results/tables/{table}.meta.json",
        report=report(
            "results/reports/{table}.md",
            caption="../report/dos_report.rst",
            category="Thesis tables",
        ),
    log:
        "logs/dos_table/{table}.log",
    benchmark:
        "benchmarks/dos_table/{table}.tsv"
    wildcard_constraints:
        **DOS_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        scale=config["scale"],
        dos=DOS,
        registry=config["registry"],
    script:
        "../scripts/dos_table.py"


# Table 2.7: every model of dos.timing trained for a few epochs one after the other in this one job, on the same
# data, batch size and device, with the validation-chosen settings of each (one thread: the ratios, not the
# seconds, carry over to other machines).
rule dos_timing:
    input:
        data=lambda wc: dos_prepared(DOS["timing"]["dataset"]),
        selections=[
            f"results/models/dos/{m}/{DOS['timing']['dataset']}/selection.json"
            for m in DOS["timing"]["methods"]
        ],
        raw=lambda wc: list(dos_raw_files(DOS["timing"]["dataset"]).values()),
        verified=lambda wc: dos_stamps(DOS["timing"]["dataset"]),
        thesis="config/thesis/table2_7.csv",
    output:
        table=report(
            "results/tables/table2_7.csv",
            caption="../report/dos_timing.rst",
            category="Thesis tables",
        ),
        meta="results/tables/table2_7.meta.json",
        report=report(
            "results/reports/table2_7.md",
            caption="../report/dos_timing.rst",
            category="Thesis tables",
        ),
    log:
        "logs/dos_timing/table2_7.log",
    benchmark:
        "benchmarks/dos_timing/table2_7.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
    params:
        scale=config["scale"],
        dos=DOS,
        seed=config["seeds"][0],
        registry=config["registry"],
    script:
        "../scripts/dos_timing.py"


rule dos_figure:
    input:
        predictions=dos_figure_runs,
        info=lambda wc: f"results/data/dos/{DOS_TABLES[dos_figure_table(wc.figure)]['dataset']}/info.json",
    output:
        report(
            "results/figures/{figure}.png",
            caption="../report/dos_figure.rst",
            category="Figures",
        ),
    log:
        "logs/dos_figure/{figure}.log",
    wildcard_constraints:
        figure="|".join(DOS_FIGURES),
    conda:
        CONDA_ENV
    params:
        methods=DOS["figure_methods"],
        names={m: DOS_METHODS[m] for m in DOS["figure_methods"]},
    script:
        "../scripts/dos_figure.py"
