from pathlib import Path

# Thesis-wide outputs: the scoreboard of all 33 thesis tables (results/reports/index.md). Knows no domain: its
# inputs are all_tables() of the Snakefile, the union of every chapter's <domain>_tables().


localrules:
    scoreboard,


rule scoreboard:
    input:
        index="config/thesis/index.yaml",
        thesis=sorted(Path("config/thesis").glob("*.csv")),
        tables=lambda wildcards: all_tables(),
        metas=lambda wildcards: [t.replace(".csv", ".meta.json") for t in all_tables()],
    output:
        report(
            "results/reports/index.md",
            caption="../report/scoreboard.rst",
            category="Thesis tables",
        ),
    log:
        "logs/scoreboard.log",
    benchmark:
        "benchmarks/scoreboard.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/scoreboard.py"
