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


wildcard_constraints:
    seed=r"\d+",
    year=r"\d{4}",
    dataset="|".join(sorted(REGISTRY)),
    method="|".join(sorted(METHODS)),
    table="|".join(sorted(config["crop"]["tables"])),


rule all:
    default_target: True
    input:
        all_targets(),
