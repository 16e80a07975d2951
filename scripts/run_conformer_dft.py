"""Snakemake entry point: ωB97X-D/def2-SVP reference energies of the conformers and the
geometries every method is evaluated at (rule ``conformer_dft``).

``evaluation.conformers.dft_optimize: false``: single points at the GFN2-xTB geometries.
``true`` (the paper's protocol): Psi4 optimisations; conformers whose bonds changed are dropped
and conformers that became the same are merged (the search's RMSD criterion), and the
optimised geometries become ``reference_conformers.json``.
"""

from pathlib import Path

from virialff.evaluate.conformers import (
    conformer_items,
    read_conformers,
    reference_conformers,
    write_conformers,
)
from virialff.logs import setup_logging
from virialff.qc.psi4_energies import optimize_geometries, single_point_energies
from virialff.workflow import psi4_settings_for_job

log = setup_logging(snakemake.log[0], "virialff.evaluate")
descriptors = snakemake.params.descriptors
cfg = snakemake.params.conformers
method, basis = descriptors["method"], descriptors["basis"]
settings = psi4_settings_for_job(descriptors, snakemake.threads, snakemake.resources)
chunk_size = snakemake.resources.dft_chunk_size
payload = read_conformers(snakemake.input.conformers)
items = [{"item_id": it["conformer_id"], "symbols": it["symbols"],
          "positions_angstrom": it["positions_angstrom"]} for it in conformer_items(payload)]
workdir = Path(snakemake.output.dft).parent / "dft_work"
if cfg["dft_optimize"]:
    # Optimisations keep the descriptor stage's SCF convergence: gradients need it.
    optimized = optimize_geometries(items, settings, method=method, basis=basis,
                                    chunk_size=chunk_size, workdir=workdir / "opt",
                                    log_path=snakemake.log[0] + ".psi4")
    outcomes = [outcome for outcome, _ in optimized]
    positions = [final for _, final in optimized]
else:
    # Energy differences only: evaluation.conformers.scf_convergence (1e-6 Eh) is ample.
    settings.options.update(e_convergence=cfg["scf_convergence"],
                            d_convergence=cfg["scf_convergence"])
    outcomes = single_point_energies(items, settings, method=method, basis=basis,
                                     chunk_size=chunk_size, workdir=workdir / "sp",
                                     log_path=snakemake.log[0] + ".psi4")
    positions = None
reference, table = reference_conformers(
    payload, outcomes, positions, reference_method=f"{method}/{basis}",
    rmsd_threshold_angstrom=cfg["rmsd_threshold_angstrom"])
for row in table.itertuples():
    log.info("%s %s %.1f s %s", row.conformer_id, row.status, row.wall_s, row.message)
meta = reference["metadata"]
log.info("reference geometry %s: %d of %d conformers kept (%d failed, %d topology changed, "
         "%d merged after the DFT optimisation); %d molecules, %d dropped", meta["geometry"],
         meta["n_conformers"], meta["n_input_conformers"], meta["n_failed"],
         meta["n_topology_changed"], meta["n_merged_after_dft"], meta["n_molecules"],
         len(meta["dropped"]))
table.to_csv(snakemake.output.dft, index=False)
write_conformers(snakemake.output.reference, reference)
