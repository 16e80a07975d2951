"""Snakemake entry point: the simulation check of a force field of the Amber form (rule
``simulation_stability`` for ``gaff2`` and ``gbffs``; :mod:`virialff.evaluate.amber_simulation`)
→ ``results/metrics/simulation/{gaff2,gbffs}.json``, the layout of the models' files."""

import json

from virialff.evaluate.amber_simulation import read_gaff2_parameters, study_force_field
from virialff.evaluate.simulation import json_ready, simulation_molecules, summarize
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
name = snakemake.wildcards.model_name
settings = snakemake.params.simulation
chosen, geometries, note = simulation_molecules(snakemake.input.molecules,
                                                snakemake.input.geometries,
                                                settings["n_molecules"])
log.info("%s", note)
if name == "gaff2":
    found = read_gaff2_parameters(snakemake.input.parameters, snakemake.input.parameter_status)
    source = "results/gaff2 (the gaff2 stage)"

    def parameters_of(molecule_id, mol):
        return found.get(molecule_id, "no entry in the gaff2 stage's shards")
else:
    import torch

    from virialff.model.gbffs import GBFFsPredictor

    torch.set_num_threads(1)
    predictor = GBFFsPredictor.load(snakemake.input.model, device="cpu")
    source = snakemake.input.model

    def parameters_of(molecule_id, mol):
        return predictor.amber_parameters(mol, molecule_id)

rows, failed = study_force_field(parameters_of, chosen, geometries, settings,
                                 seed=snakemake.params.seed, log=log.warning)
for row in rows:
    log.info("%s: BFGS %s after %d steps, RMSD to GFN2-xTB %.3f Å; %d MD steps, max bond "
             "change %.3f Å (%s), %d stretched, %d compressed", row["molecule"],
             "converged" if row["bfgs_converged"] else "not converged", row["bfgs_steps"],
             row["rmsd_to_xtb_angstrom"], row["md_steps"], row["md_max_bond_change_angstrom"],
             row["md_worst_bond"], row["md_stretched_bonds"], row["md_compressed_bonds"])
summary = {**summarize(rows), "n_without_parameters": len(failed)}
payload = {"model": name, "parameters": source, "split": "test", "settings": dict(settings),
           "seed": snakemake.params.seed, "summary": summary, "molecules": rows,
           "failed": failed}
with open(snakemake.output.metrics, "w") as handle:
    json.dump(json_ready(payload), handle, indent=1)
    handle.write("\n")
