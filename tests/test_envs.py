"""envs/seqstruct.yaml (for --sdm conda) pins exactly what pyproject.toml pins."""

import tomllib

import yaml
from conftest import ROOT


def test_conda_env_pins_match_pyproject() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "envs/seqstruct.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip) == sorted(deps)
    assert all("==" in d for d in deps), "every dependency needs an exact pin"
    assert "torch==2.13.0" in deps
    assert "python=3.11" in env["dependencies"]
