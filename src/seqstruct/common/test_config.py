from pathlib import Path

import pytest
import yaml

from seqstruct.common.config import ConfigError, check_config, merge_configs

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


def test_shipped_configs_are_valid() -> None:
    """config.yaml alone, and each overlay as Snakemake reads it (``--configfile`` merged over config.yaml)."""
    check_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()), SCHEMA)
    for overlay in ("config/scales/paper.yaml", "tests/config/smoke.yaml"):
        check_config(merge_configs(ROOT / "config/config.yaml", ROOT / overlay), SCHEMA)


@pytest.mark.parametrize(
    "config, expected",
    [
        (
            {"crop": {"test_yeras": [2018]}},
            "config: crop: unknown key(s) ['test_yeras'] (allowed: crops, data, datasets, early_mask, early_week",
        ),
        ({"seeds": [0, -1]}, "config: seeds/1: -1 is less than the minimum of 0"),
        ({"crop": {"methods": {"gnn_rnn_5y": {"lr": "fast"}}}}, "config: crop/methods/gnn_rnn_5y/lr: 'fast' is not"),
        ({"crop": {"source": "reel"}}, "config: crop/source: 'reel' is not one of ['real', 'synthetic']"),
    ],
)
def test_errors_are_one_line_and_name_the_key(config: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA)
    assert str(info.value).startswith(expected) and "\n" not in str(info.value)


def test_numeric_strings_become_numbers_where_the_schema_wants_them() -> None:
    # what `snakemake --config 'crop={test_years: [2017], methods: {gnn_rnn_5y: {lr: 1e-3}}}'` passes in
    config = {
        "seeds": ["0", "1"],
        "crop": {"test_years": ["2017"], "source": "real", "methods": {"gnn_rnn_5y": {"lr": "1e-3", "epochs": "5"}}},
    }
    check_config(config, SCHEMA)
    assert config["seeds"] == [0, 1] and config["crop"]["test_years"] == [2017]
    assert config["crop"]["methods"]["gnn_rnn_5y"] == {"lr": 1e-3, "epochs": 5}
    with pytest.raises(ConfigError, match="epochs: '2.5' is not of type 'integer'"):
        check_config({"crop": {"methods": {"gnn_rnn_5y": {"epochs": "2.5"}}}}, SCHEMA)
    grids = {"crop": {"grids": {"gradient_boosting_1y": {"max_depth": ["3", None], "max_iter": ["100"]}}}}
    check_config(grids, SCHEMA)
    assert grids["crop"]["grids"]["gradient_boosting_1y"] == {"max_depth": [3, None], "max_iter": [100]}


def test_merge_configs_as_snakemake_merges_configfiles(tmp_path: Path) -> None:
    from seqstruct.common.config import merge_configs

    (tmp_path / "a.yaml").write_text("seeds: [0, 1]\ncrop: {test_years: [2018], methods: {x: {lr: 1, epochs: 2}}}\n")
    (tmp_path / "b.yaml").write_text("seeds: [5]\ncrop: {methods: {x: {lr: 3}}}\n")
    merged = merge_configs(tmp_path / "a.yaml", tmp_path / "b.yaml")
    assert merged == {"seeds": [5], "crop": {"test_years": [2018], "methods": {"x": {"lr": 3, "epochs": 2}}}}
    # YAML aliases stay separate values: merging into one alias leaves the others as they were
    (tmp_path / "anchors.yaml").write_text("grids: {a: &g {lr: [1]}, b: *g}\n")
    (tmp_path / "over.yaml").write_text("grids: {a: {lr: [2]}}\n")
    assert merge_configs(tmp_path / "anchors.yaml", tmp_path / "over.yaml")["grids"] == {
        "a": {"lr": [2]},
        "b": {"lr": [1]},
    }
    with pytest.raises(ConfigError, match="c.yaml: config file not found"):
        merge_configs(tmp_path / "c.yaml")


def test_unknown_method_setting_names_the_trainer_and_model_fields() -> None:
    with pytest.raises(ConfigError) as info:
        check_config({"crop": {"methods": {"gnn_rnn_5y": {"lrr": 0.1}}}}, SCHEMA)
    msg = str(info.value)
    assert msg.startswith("config: crop/methods/gnn_rnn_5y: unknown key(s) ['lrr'] (allowed: aggr, batch_size")
    assert "warmup_steps" in msg and "optimizer" in msg  # the shared trainer settings, through $ref + allOf


def test_trainer_settings_schema_mirrors_train_config() -> None:
    """workflow/schemas/common.schema.yaml#/$defs/train has exactly TrainConfig's fields and choices."""
    from dataclasses import fields

    from seqstruct.common.trainer import INTERVALS, OPTIMIZERS, SCHEDULERS, TrainConfig

    train = yaml.safe_load((ROOT / "workflow/schemas/common.schema.yaml").read_text())["$defs"]["train"]
    props = train["properties"]
    assert list(props) == [f.name for f in fields(TrainConfig)]
    kinds = {int: "integer", float: "number", str: "string"}
    assert {k: v["type"] for k, v in props.items()} == {f.name: kinds[type(f.default)] for f in fields(TrainConfig)}
    assert (
        tuple(props["optimizer"]["enum"]),
        tuple(props["scheduler"]["enum"]),
        tuple(props["scheduler_interval"]["enum"]),
    ) == (OPTIMIZERS, SCHEDULERS, INTERVALS)


def test_a_ref_to_a_missing_schema_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "top.yaml").write_text("type: object\nproperties:\n  x: {$ref: 'gone.schema.yaml'}\n")
    with pytest.raises(Exception, match="gone.schema.yaml"):
        check_config({"x": 1}, tmp_path / "top.yaml")


def test_split_params_builds_each_class_from_its_constructor_fields() -> None:
    from dataclasses import dataclass, field

    from seqstruct.common.config import init_settings, split_params

    @dataclass
    class A:
        lr: float = 1.0
        sizes: tuple[int, ...] = (1,)

    @dataclass
    class B:
        k: int = 3
        fitted: list[int] = field(default_factory=list, init=False)

    a, b = split_params({"lr": 0.5, "sizes": [2, 3], "k": 4}, A, B)
    assert a == A(0.5, (2, 3)) and b.k == 4 and init_settings(b) == {"k": 4}
    with pytest.raises(ValueError, match=r"unknown model settings \['fitted'\]; valid: \['k', 'lr', 'sizes'\]"):
        split_params({"fitted": [1]}, A, B)
