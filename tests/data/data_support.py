"""Paths shared by the data-stage tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QMUGS_FIXTURE = REPO / "tests" / "fixtures" / "qmugs"
DEMO_CSV = REPO / "data" / "demo" / "molecules.csv"
BAD_CSV = REPO / "data" / "demo" / "bad_molecules.csv"


def subset(config: dict, paths: dict, n_shards: int | None = None):  # noqa: ANN201
    """Run the subset stage with a whole config, as the rule does with its params."""
    from virialff.config import prepare_config
    from virialff.data.subset import SubsetSettings, run_subset

    prepare_config(config)
    source = config["source"]
    per_molecule = config["qmugs"]["conformers_per_molecule"] if source == "qmugs" else 1
    settings = SubsetSettings.from_sections(config["filters"], config["subset"], config["split"],
                                            config["sharding"], config["seed"], per_molecule)
    return run_subset(source, config[source], settings, **paths, n_shards=n_shards)


def bound(config: dict) -> int:
    """The rows bound that fixes the number of shards at DAG time."""
    from virialff.config import prepare_config
    from virialff.data.subset import max_selected_rows

    prepare_config(config)
    return max_selected_rows(config["source"], config[config["source"]],
                             config["subset"]["n_molecules"],
                             config["qmugs"]["conformers_per_molecule"])
