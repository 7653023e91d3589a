# seqstruct: re-running J. Bai's thesis (Cornell 2022) from raw data to its tables.
# Usage: snakemake --cores 2 results/tables/table2_1.csv   (see README.md)
from snakemake.utils import min_version, validate

from seqstruct.common.config import ConfigError, check_config

min_version("9.0")


configfile: "config/config.yaml"


try:
    check_config(
        config, "workflow/schemas/config.schema.yaml"
    )  # one-line error on a typo
except ConfigError as err:
    raise WorkflowError(str(err)) from None
validate(
    config, "workflow/schemas/config.schema.yaml", set_default=True
)  # fills defaults


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/crop.smk"
include: "workflow/rules/dos.smk"
include: "workflow/rules/mlc.smk"
include: "workflow/rules/dapc.smk"
include: "workflow/rules/thesis.smk"
include: "workflow/rules/targets.smk"


rule all:
    default_target: True
    input:
        all_targets(),


# `snakemake --cores 2 tables`: every thesis table of the configured domains (CSV, meta, report), no figures.
rule tables:
    input:
        all_tables(),
