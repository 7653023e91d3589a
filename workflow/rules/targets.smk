# The union of the chapters' targets (functions only; rule all and rule tables in the Snakefile use them).
# A new domain adds its <domain>_targets() and <domain>_tables() here (docs/adding-a-domain.md).


def all_tables():
    """Every table of the configured domains: the union of each chapter's <domain>_tables()."""
    return [*crop_tables(), *dos_tables(), *mlc_tables(), *dapc_tables()]


def all_targets():
    """Every table, report and figure of the configured domains, and the thesis scoreboard."""
    return [
        *crop_targets(),
        *dos_targets(),
        *mlc_targets(),
        *dapc_targets(),
        "results/reports/index.md",
    ]
