"""Snakemake entry point: one method's energies on one benchmark
(rules ``benchmark_predict`` and ``conformers_predict``, wildcard ``method``).

Every method writes the same table format; a method that cannot run here (ANI weights absent,
xtb not found, no model file) writes rows saying "not available: <reason>" and the workflow
goes on.
"""

from virialff.evaluate.baselines import make_baseline
from virialff.logs import setup_logging
from virialff.workflow import xtb_settings_for_job

log = setup_logging(snakemake.log[0], "virialff.evaluate")
benchmark = snakemake.params.benchmark
method = snakemake.params.method
params = snakemake.params
# settings of one program only (None, or absent, for the other methods)
geometry, gaff2 = getattr(params, "geometry", None), getattr(params, "gaff2", None)
baseline = make_baseline(
    method,
    model_path=getattr(snakemake.input, "model", None),
    xtb_settings=(xtb_settings_for_job(geometry, snakemake.threads, snakemake.resources)
                  if geometry is not None else None),
    ani_model=getattr(params, "ani_model", None),
    log_path=snakemake.log[0] + ".xtb",
    charge_method=gaff2["charge_method"] if gaff2 is not None else None,
    amber_timeout_s=getattr(snakemake.resources, "amber_timeout_s", None),
)
ok, reason = baseline.available()
log.info("%s on %s: %s", method, benchmark, "available" if ok else f"not available: {reason}")
if benchmark == "conformers":
    from virialff.evaluate.conformers import conformer_table, read_conformers

    table = conformer_table(baseline, read_conformers(snakemake.input.systems))
else:
    from virialff.evaluate.interactions import interaction_table
    from virialff.evaluate.runs import load_bundled_systems
    from virialff.evaluate.systems import read_systems_json

    systems = read_systems_json(snakemake.input.systems)
    topologies = {s.system_id: s for s in load_bundled_systems(benchmark,
                                                               snakemake.params.data_dir)}
    table = interaction_table(baseline, systems, topologies)
table.to_csv(snakemake.output.predictions, index=False)
for row in table.itertuples():
    if row.status != "ok" and ok:
        log.warning("%s", row.message)
log.info("%s on %s: %d rows, %d ok", method, benchmark, len(table),
         int((table["status"] == "ok").sum()))
