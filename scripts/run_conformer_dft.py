"""Snakemake entry point: ωB97X-D/def2-SVP reference energies of the conformers (rule
``conformer_dft``): single points at the GFN2-xTB geometries, or at ωB97X-D/def2-SVP
geometries when ``evaluation.conformers.dft_optimize`` (Psi4's optimiser, the paper's protocol)."""

from pathlib import Path

import pandas as pd

from virialff.data.logs import setup_logging
from virialff.evaluate.conformers import CONFORMER_COLUMNS, conformer_items, read_conformers
from virialff.qc.psi4_energies import (
    optimize_geometries,
    settings_from_config,
    single_point_energies,
)

log = setup_logging(snakemake.log[0], "virialff.evaluate")
descriptors = snakemake.params.descriptors
settings = settings_from_config({**descriptors, "threads": snakemake.threads})
# Energies differences only: 1e-6 Eh (6e-4 kcal/mol) SCF convergence is ample and saves cycles.
settings.options.update(snakemake.params.scf_options)
payload = read_conformers(snakemake.input.conformers)
items = [{"item_id": it["conformer_id"], "symbols": it["symbols"],
          "positions_angstrom": it["positions_angstrom"], "molecule_id": it["molecule_id"]}
         for it in conformer_items(payload)]
workdir = Path(snakemake.output.dft).parent / "dft_work"
if snakemake.params.dft_optimize:
    optimized = optimize_geometries(items, settings, method=descriptors["method"],
                                    basis=descriptors["basis"], workdir=workdir / "opt",
                                    log_path=snakemake.log[0] + ".psi4")
    outcomes = [outcome for outcome, _ in optimized]
    geometry = "wB97X-D/def2-SVP optimised"
else:
    geometry = "GFN2-xTB"
    outcomes = single_point_energies(items, settings, method=descriptors["method"],
                                     basis=descriptors["basis"], workdir=workdir / "sp",
                                     chunk_size=snakemake.params.chunk_size,
                                     log_path=snakemake.log[0] + ".psi4")
rows = []
for item, outcome in zip(items, outcomes, strict=True):
    rows.append({"molecule_id": item["molecule_id"], "conformer_id": item["item_id"],
                 "method": "dft", "available": True, "reason": "",
                 "status": "ok" if outcome.ok else "failed", "message": outcome.message,
                 "energy_kcal_mol": outcome.value_kcal_mol, "wall_s": outcome.wall_s})
    log.info("%s %s %.1f s %s", item["item_id"], "ok" if outcome.ok else outcome.reason,
             outcome.wall_s, outcome.message)
table = pd.DataFrame(rows, columns=list(CONFORMER_COLUMNS))
table["geometry"] = geometry
table.to_csv(snakemake.output.dft, index=False)
