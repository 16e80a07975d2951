"""Snakemake entry point: GFN2-xTB geometries of the S66 dimers or the base pairs
(rules ``s66_geometries``, ``base_pairs_geometries``).

S66: the dimer is optimised and the monomers are cut out of it (vertical). Base pairs: the
complex and each monomer are optimised separately (the paper's Eq. 25).
"""

from virialff.evaluate.runs import load_bundled_systems, optimize_systems
from virialff.evaluate.systems import write_systems_json
from virialff.logs import setup_logging
from virialff.workflow import xtb_settings_for_job

log = setup_logging(snakemake.log[0], "virialff.evaluate")
benchmark = snakemake.params.benchmark
settings = xtb_settings_for_job(snakemake.params.geometry, snakemake.threads, snakemake.resources)
systems = load_bundled_systems(benchmark, snakemake.params.data_dir)
relax = benchmark == "base_pairs"
optimized, status = optimize_systems(systems, relax_monomers=relax, xtb_settings=settings,
                                     log_path=snakemake.log[0] + ".xtb")
write_systems_json(optimized, snakemake.output.geometries, benchmark=benchmark,
                   optimizer=f"GFN2-xTB (xtb --opt {settings.optimization_level})",
                   monomers="relaxed" if relax else "vertical (cut out of the optimised complex)")
status.write(snakemake.output.status)
for record in status.records:
    log.info("%s %s %.1f s %s", record.molecule_id, record.status, record.wall_s, record.message)
log.info("%s: %d of %d systems optimised", benchmark, len(optimized), len(systems))
