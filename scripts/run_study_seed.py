"""Snakemake script: every compared model of one seed (rule ``study_seed``;
:func:`virialff.train.studies.run_seed`)."""

import json
from pathlib import Path

import pandas as pd

from virialff.evaluate.conformers import read_conformers
from virialff.evaluate.metrics import json_ready
from virialff.evaluate.runs import load_bundled_systems
from virialff.evaluate.systems import read_systems_json
from virialff.formats.geometry_sdf import read_geometry_sdf
from virialff.formats.molecules_csv import read_molecules_csv
from virialff.logs import setup_logging
from virialff.train.studies import BenchmarkSets, run_seed

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
p = snakemake.params
seed = int(snakemake.wildcards.study_seed)
test_ids = [r["molecule_id"] for r in read_molecules_csv(snakemake.input.molecules)
            if r["split"] == "test"]
geometries = {r.molecule_id: r.mol for path in snakemake.input.geometries
              for r in read_geometry_sdf(path) if not r.error}
molecules = [(m, geometries[m]) for m in test_ids if m in geometries][
    : p.simulation["n_molecules"]]
s66 = read_systems_json(snakemake.input.s66)
base_pairs = read_systems_json(snakemake.input.base_pairs)
benchmarks = BenchmarkSets(
    s66=s66, s66_topologies={s.system_id: s for s in load_bundled_systems("s66", p.data_dir)},
    base_pairs=base_pairs,
    base_pair_topologies={s.system_id: s for s in load_bundled_systems("base_pairs",
                                                                       p.data_dir)},
    conformers=read_conformers(snakemake.input.conformers),
    conformer_dft=pd.read_csv(snakemake.input.conformer_dft,
                              dtype={"message": str, "reason": str, "status": str}))
result = run_seed(snakemake.input.dataset, Path(snakemake.output.summary).with_suffix(""),
                  seed, embedding=p.embedding, potential=p.potential, forces=p.forces,
                  guards=p.guards, simulation=p.simulation, test_molecules=molecules,
                  device=snakemake.resources.device, interactions=dict(p.interactions),
                  dimers=snakemake.input.dimers, benchmarks=benchmarks,
                  dipole_weight=float(p.dipole_weight))
Path(snakemake.output.summary).write_text(json.dumps(json_ready(result), indent=1) + "\n")
