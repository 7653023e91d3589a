# Helpers shared by every chapter (config lookups, input functions), and nothing of any domain. Each
# chapter's .smk owns its wildcard constraints, helpers and <domain>_targets() / <domain>_tables().
import yaml

CONDA_ENV = "../../envs/seqstruct.yaml"
REGISTRY = yaml.safe_load(open(config["registry"]))["datasets"]


def seeds_for(method, deterministic):
    """Seeds a method runs with: every configured seed, or the first one for a deterministic method."""
    seeds = config["seeds"]
    return seeds[:1] if method in deterministic else seeds


def gpu_unless(deterministic):
    """Input function of `resources: gpu=`: one GPU for a trained model, none for a deterministic baseline."""
    return lambda wildcards: 0 if wildcards.method in deterministic else 1


def registry_dataset_of(filename, datasets, where):
    """The dataset among `datasets` (registry ids, config key `where`) that registers `filename`."""
    unknown = [d for d in datasets if d not in REGISTRY]
    if unknown:
        raise WorkflowError(
            f"config: unknown dataset id(s) {unknown} in {where}; known ids in {config['registry']}: "
            f"{sorted(REGISTRY)}"
        )
    hits = [
        d
        for d in datasets
        if any(f["name"] == filename for f in REGISTRY[d].get("files") or [])
        or any(
            m["path"] == filename
            for f in REGISTRY[d].get("files") or []
            for m in f.get("members") or []
        )
    ]
    if len(hits) != 1:
        raise WorkflowError(
            f"{config['registry']}: file {filename!r} is registered by {hits or 'none'} of the configured "
            f"datasets {datasets} ({where}); it must be exactly one"
        )
    return hits[0]


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
