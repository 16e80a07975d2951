"""Snakemake entry point: conformer ensembles of 7–9-heavy-atom molecules (rule
``conformer_search``): CREST where it is on PATH, else RDKit ETKDG + GFN2-xTB + energy window +
RMSD de-duplication. The output records which engine ran."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from virialff.data.logs import setup_logging
from virialff.errors import MoleculeRejected
from virialff.evaluate.conformers import candidate_molecules, spread_subset
from virialff.qc.conformers import ENGINE_CREST, ENGINE_FALLBACK, crest_available, search_conformers
from virialff.qc.status import StatusTable
from virialff.qc.xtb import xtb_settings_from_config

log = setup_logging(snakemake.log[0], "virialff.evaluate")
cfg = snakemake.params.conformers
settings = xtb_settings_from_config({**snakemake.params.geometry, "threads": snakemake.threads})
molecules = pd.read_csv(snakemake.input.molecules)
candidates = candidate_molecules(molecules, cfg["min_heavy_atoms"], cfg["max_heavy_atoms"],
                                 tuple(snakemake.params.elements))
engine = ENGINE_CREST if crest_available(snakemake.params.crest_executable) else ENGINE_FALLBACK
log.info("%d candidate molecules with %d-%d heavy atoms; engine: %s", len(candidates),
         cfg["min_heavy_atoms"], cfg["max_heavy_atoms"], engine)
status = StatusTable("conformers")
selected = []
for row in candidates.itertuples():
    if len(selected) >= cfg["n_molecules"]:
        break
    start = time.perf_counter()
    try:
        mol = Chem.AddHs(Chem.MolFromSmiles(row.smiles))
        result = search_conformers(
            mol, row.molecule_id, crest_executable=snakemake.params.crest_executable,
            n_embed=cfg["n_embed"], energy_window_kcal_mol=cfg["energy_window_kcal_mol"],
            rmsd_threshold_angstrom=cfg["rmsd_threshold_angstrom"], xtb_settings=settings,
            seed=snakemake.params.seed, log_path=snakemake.log[0] + ".xtb")
    except MoleculeRejected as error:
        status.rejected(error, time.perf_counter() - start)
        continue
    wall = time.perf_counter() - start
    if result.n_conformers < cfg["min_conformers"]:
        status.ok(row.molecule_id, wall, f"only {result.n_conformers} distinct conformers "
                  f"(< min_conformers {cfg['min_conformers']}); not used")
        log.info("%s: %d conformers, skipped", row.molecule_id, result.n_conformers)
        continue
    keep = spread_subset(result.n_conformers, cfg.get("max_conformers"))
    status.ok(row.molecule_id, wall, f"{result.n_conformers} distinct conformers, "
              f"{len(keep)} kept")
    log.info("%s (%s): counts %s, %d kept, %.1f s", row.molecule_id, row.smiles, result.counts,
             len(keep), wall)
    selected.append({
        "molecule_id": row.molecule_id, "name": row.name, "smiles": row.smiles,
        "split": row.split, "engine": result.engine, "counts": result.counts,
        "n_rotatable_bonds": int(row.n_rotatable_bonds), "symbols": result.symbols,
        "messages": result.messages,
        "conformers": [{"conformer_id": f"{row.molecule_id}_c{k:02d}",
                        "positions_angstrom": np.asarray(result.positions_angstrom[i]).tolist(),
                        "xtb_energy_hartree": result.xtb_energies_hartree[i]}
                       for k, i in enumerate(keep)],
    })
if len(selected) < cfg["n_molecules"]:
    log.warning("only %d of %d molecules reached %d conformers", len(selected),
                cfg["n_molecules"], cfg["min_conformers"])
payload = {"metadata": {"engine": engine, "settings": cfg, "n_candidates": len(candidates),
                        "n_molecules": len(selected)},
           "molecules": selected}
Path(snakemake.output.conformers).write_text(json.dumps(payload, indent=1))
status.write(snakemake.output.status)
