"""Snakemake script: every compared model of one seed (rule ``study_seed``;
:func:`virialff.train.studies.run_seed`)."""

import json
from pathlib import Path

from virialff.evaluate.metrics import json_ready
from virialff.formats.geometry_sdf import read_geometry_sdf
from virialff.formats.molecules_csv import read_molecules_csv
from virialff.train.runtime import setup_script
from virialff.train.studies import run_seed

snakemake = globals()["snakemake"]
setup_script(snakemake.log[0], snakemake.threads)
p = snakemake.params
seed = int(snakemake.wildcards.study_seed)
test_ids = [r["molecule_id"] for r in read_molecules_csv(snakemake.input.molecules)
            if r["split"] == "test"]
geometries = {r.molecule_id: r.mol for path in snakemake.input.geometries
              for r in read_geometry_sdf(path) if not r.error}
molecules = [(m, geometries[m]) for m in test_ids if m in geometries][
    : p.simulation["n_molecules"]]
result = run_seed(snakemake.input.dataset, Path(snakemake.output.summary).with_suffix(""),
                  seed, embedding=p.embedding, potential=p.potential, forces=p.forces,
                  guards=p.guards, simulation=p.simulation, test_molecules=molecules,
                  device=snakemake.resources.device)
Path(snakemake.output.summary).write_text(json.dumps(json_ready(result), indent=1) + "\n")
