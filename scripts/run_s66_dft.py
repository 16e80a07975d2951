"""Snakemake entry point: ωB97X-D/def2-SVP counterpoise-corrected S66 interaction energies with
Psi4 (rule ``s66_dft_cp``), on the ``evaluation.s66.dft_max_dimers`` smallest dimers."""

from pathlib import Path

from virialff.evaluate.runs import dft_cp_table
from virialff.evaluate.systems import read_systems_json
from virialff.logs import setup_logging
from virialff.workflow import psi4_settings_for_job

log = setup_logging(snakemake.log[0], "virialff.evaluate")
s66 = snakemake.params.s66
settings = psi4_settings_for_job(snakemake.params.descriptors, snakemake.threads,
                                 snakemake.resources)
# Energy differences only: evaluation.s66.scf_convergence (1e-6 Eh = 6e-4 kcal/mol) is ample.
settings.options.update(e_convergence=s66["scf_convergence"], d_convergence=s66["scf_convergence"])
systems = read_systems_json(snakemake.input.geometries)
workdir = Path(snakemake.output.predictions).parent / "dft_cp_work"
table = dft_cp_table(systems, s66["dft_max_dimers"], settings,
                     method=snakemake.params.descriptors["method"],
                     basis=snakemake.params.descriptors["basis"],
                     chunk_size=snakemake.resources.dft_chunk_size, workdir=workdir,
                     log_path=snakemake.log[0] + ".psi4")
table.to_csv(snakemake.output.predictions, index=False)
for row in table[table["status"] != "skipped"].itertuples():
    log.info("%s %s E_int %.3f kcal/mol, %.1f s %s", row.system_id, row.status,
             row.interaction_energy_kcal_mol, row.wall_s, row.message)
