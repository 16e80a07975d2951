"""Snakemake entry point: conformer ensembles of molecules the model never saw (rule
``conformer_search``): from the test split of results/dataset/molecules.csv, or from
``evaluation.conformers.external_molecules_csv``, less every molecule whose canonical key is a
training molecule's. CREST where it is on PATH, else RDKit ETKDG + GFN2-xTB + energy window +
RMSD de-duplication. The output records the source, the split and which engine ran."""

import time

import numpy as np
import pandas as pd
from rdkit import Chem

from virialff.errors import MoleculeRejected
from virialff.evaluate.conformers import (
    assign_stereo,
    candidate_molecules,
    conformer_source,
    spread_subset,
    write_conformers,
)
from virialff.formats.molecules_csv import read_molecules_csv
from virialff.formats.status_table import StatusTable
from virialff.logs import setup_logging
from virialff.qc.conformers import ENGINE_CREST, ENGINE_FALLBACK, crest_available, search_conformers
from virialff.workflow import xtb_settings_for_job

log = setup_logging(snakemake.log[0], "virialff.evaluate")
cfg = snakemake.params.conformers
settings = xtb_settings_for_job(snakemake.params.geometry, snakemake.threads,
                                snakemake.resources)
molecules = pd.DataFrame(read_molecules_csv(snakemake.input.molecules))
external_path = cfg["external_molecules_csv"]
external = pd.read_csv(snakemake.input.external) if external_path else None
rows, provenance = conformer_source(molecules, external, external_path)
log.info("source %s: %d rows, %d left out as training molecules (%s)", provenance["source"],
         provenance["n_rows"], provenance["n_seen_in_training"],
         ", ".join(provenance["seen_in_training"][:20]))
candidates = candidate_molecules(rows, min_heavy_atoms=cfg["min_heavy_atoms"],
                                 max_heavy_atoms=cfg["max_heavy_atoms"],
                                 elements=tuple(snakemake.params.elements),
                                 min_rotatable_bonds=cfg["min_rotatable_bonds"])
crest = cfg["crest_executable"]
engine = ENGINE_CREST if crest_available(crest) else ENGINE_FALLBACK
log.info("%d candidate molecules with %d-%d heavy atoms; engine: %s", len(candidates),
         cfg["min_heavy_atoms"], cfg["max_heavy_atoms"], engine)
status = StatusTable("conformers")
selected = []
for row in candidates.itertuples():
    if len(selected) >= cfg["n_molecules"]:
        break
    start = time.perf_counter()
    smiles, n_assigned = assign_stereo(row.smiles)
    if n_assigned:
        log.info("%s: %d unassigned stereo elements fixed: %s -> %s", row.molecule_id,
                 n_assigned, row.smiles, smiles)
    try:
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        result = search_conformers(
            mol, row.molecule_id, crest_executable=crest, n_embed=cfg["n_embed"],
            energy_window_kcal_mol=cfg["energy_window_kcal_mol"],
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
    keep = spread_subset(result.n_conformers, cfg["max_conformers"])
    status.ok(row.molecule_id, wall, f"{result.n_conformers} distinct conformers, "
              f"{len(keep)} kept")
    log.info("%s (%s): counts %s, %d kept, %.1f s", row.molecule_id, smiles, result.counts,
             len(keep), wall)
    selected.append({
        "molecule_id": row.molecule_id, "name": row.name, "smiles": smiles,
        "input_smiles": row.smiles, "canonical_key": row.canonical_key, "source": row.source,
        "split": row.split, "engine": result.engine, "counts": result.counts,
        "n_rotatable_bonds": int(row.n_rotatable_bonds), "symbols": result.symbols,
        "messages": result.messages,
        "conformers": [{"conformer_id": f"{row.molecule_id}_c{k:02d}",
                        "positions_angstrom": np.asarray(result.positions_angstrom[i]).tolist(),
                        "xtb_energy_hartree": result.xtb_energies_hartree[i]}
                       for k, i in enumerate(keep)],
    })
if len(selected) < cfg["n_molecules"]:
    log.warning("only %d of %d molecules reached %d conformers (%d candidates from %s)",
                len(selected), cfg["n_molecules"], cfg["min_conformers"], len(candidates),
                provenance["source"])
metadata = {"engine": engine, "settings": cfg, **provenance, "n_candidates": len(candidates),
            "n_molecules": len(selected)}
write_conformers(snakemake.output.conformers, {"metadata": metadata, "molecules": selected})
status.write(snakemake.output.status)
