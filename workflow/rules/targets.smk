# The union of the chapters' targets (functions only; rule all and rule tables in the Snakefile use them).
# A new domain adds its <domain>_tables() and <domain>_targets() to DOMAINS (docs/adding-a-domain.md).

#: domain -> (its tables, its tables + reports + figures); `config["domains"]` picks the ones rule all builds
DOMAINS = {
    "crop": (crop_tables, crop_targets),
    "dos": (dos_tables, dos_targets),
    "mlc": (mlc_tables, mlc_targets),
    "dapc": (dapc_tables, dapc_targets),
}


def all_tables():
    """Every table of the configured domains (`domains`): the union of each chapter's <domain>_tables()."""
    return [t for d in config["domains"] for t in DOMAINS[d][0]()]


def all_targets():
    """Every table, report and figure of the configured domains, and the thesis scoreboard."""
    return [t for d in config["domains"] for t in DOMAINS[d][1]()] + [
        "results/reports/index.md"
    ]
