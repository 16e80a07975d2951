"""Snakemake entry point: does the trained model hold molecules together? BFGS and Langevin MD
on test-split molecules at their GFN2-xTB minima → ``results/metrics/simulation/{model}.json`` (rule
``simulation_stability``; :mod:`virialff.evaluate.simulation`)."""

import json

import torch

from virialff import load_model
from virialff.evaluate.simulation import (
    json_ready,
    simulation_molecules,
    study_molecule,
    summarize,
)
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
torch.set_num_threads(1)
settings = snakemake.params.simulation
chosen, geometries, note = simulation_molecules(snakemake.input.molecules,
                                                snakemake.input.geometries,
                                                settings["n_molecules"])
log.info("%s", note)
predictor = load_model(snakemake.input.model, device="cpu")
rows = []
for index, molecule_id in enumerate(chosen):
    row = study_molecule(predictor, molecule_id, geometries[molecule_id], settings,
                         seed=snakemake.params.seed + index)
    log.info("%s: BFGS %s after %d steps (%s), RMSD to GFN2-xTB %.3f Å; %d MD steps, max bond "
             "change %.3f Å (%s), %d stretched, %d compressed%s", molecule_id,
             "converged" if row["bfgs_converged"] else "not converged", row["bfgs_steps"],
             row["optimise_error"] or "no error", row["rmsd_to_xtb_angstrom"], row["md_steps"],
             row["md_max_bond_change_angstrom"], row["md_worst_bond"],
             row["md_stretched_bonds"], row["md_compressed_bonds"],
             f"; MD stopped: {row['md_error']}" if row["md_error"] else "")
    rows.append(row)
payload = {"model": snakemake.input.model, "split": "test", "settings": dict(settings),
           "seed": snakemake.params.seed, "summary": summarize(rows), "molecules": rows}
with open(snakemake.output.metrics, "w") as handle:
    json.dump(json_ready(payload), handle, indent=1)
    handle.write("\n")
