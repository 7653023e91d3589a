# Helpers shared by every chapter (config lookups, input functions), and nothing of any domain. Each
# chapter's .smk owns its wildcard constraints, helpers and <domain>_targets() / <domain>_tables().
from seqstruct.data.registry import DataError, get_dataset, load_registry

CONDA_ENV = "../../envs/seqstruct.yaml"
try:  # the registry's own validation (plain ids, checksums, URLs): one line on a problem
    REGISTRY = load_registry(config["registry"])
except DataError as err:
    raise WorkflowError(str(err)) from None


def seeds_for(method, deterministic):
    """Seeds a method runs with: every configured seed, or the first one for a deterministic method."""
    seeds = config["seeds"]
    return seeds[:1] if method in deterministic else seeds


def gpu_unless(deterministic, method_of=lambda wildcards: wildcards.method):
    """Input function of `resources: gpu=`: one GPU for a trained model, none for a deterministic baseline
    (`method_of(wildcards)`: the job's method, by default its `method` wildcard)."""
    return lambda wildcards: 0 if method_of(wildcards) in deterministic else 1


def registry_dataset_of(filename, datasets, where):
    """The dataset among `datasets` (registry ids, config key `where`) that registers `filename`."""
    for d in datasets:
        if d not in REGISTRY:
            try:
                get_dataset(
                    d, config["registry"]
                )  # raises with the did-you-mean and the known ids
            except DataError as err:
                raise WorkflowError(f"config {where}: {err}") from None
    hits = [d for d in datasets if registers(REGISTRY[d], filename)]
    if len(hits) != 1:
        raise WorkflowError(
            f"{config['registry']}: file {filename!r} is registered by {hits or 'none'} of the configured "
            f"datasets {datasets} ({where}); it must be exactly one"
        )
    return hits[0]


def registers(spec, name):
    """Whether dataset `spec` registers file or archive member `name`."""
    try:
        spec.locate(name)
    except DataError:
        return False
    return True


def raw_file(domain, name):
    """Path of raw file `name` of `domain`: from the registry datasets of `<domain>.datasets`, or from the
    domain's synthetic stand-in (`resources/raw/synthetic_<domain>/`) when `<domain>.source` is synthetic.

    Raw inputs are wrapped in ancient(): they are checksum-verified, so a new mtime (e.g. after `dvc pull`)
    must not retrain everything."""
    settings = config[domain]
    if settings["source"] == "synthetic":
        return ancient(f"resources/raw/synthetic_{domain}/{name}")
    dataset = registry_dataset_of(name, settings["datasets"], f"{domain}.datasets")
    return ancient(f"resources/raw/{dataset}/{name}")


def raw_stamp(domain, name):
    """The verify_raw stamp of raw file `name` of `domain` (empty for a synthetic source, which no registry
    describes). A rule that reads raw files takes their stamps as input `verified` so that they are checked
    against the registry before it runs; ancient(): a stamp rewritten for an unchanged file reruns nothing.
    """
    settings = config[domain]
    if settings["source"] == "synthetic":
        return []
    dataset = registry_dataset_of(name, settings["datasets"], f"{domain}.datasets")
    return [ancient(f"resources/verified/{dataset}/{name}.json")]


def registry_checksums(domain, names):
    """{name: registry sha256} of raw files `names` of `domain` (a params entry of the rules that read them:
    Snakemake reruns them when the registry entry changes); empty for a synthetic source.
    """
    settings = config[domain]
    if settings["source"] == "synthetic":
        return {}
    return {
        name: REGISTRY[
            registry_dataset_of(name, settings["datasets"], f"{domain}.datasets")
        ].sha256_of(name)
        for name in names
    }
