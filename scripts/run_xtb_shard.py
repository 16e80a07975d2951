"""Snakemake entry point: GFN2-xTB geometries of one shard (rule ``geometry``)."""

from virialff.qc.geometry import run_geometry_shard
from virialff.workflow import xtb_settings_for_job

log_path = snakemake.log[0]
open(log_path, "w").close()  # the library appends xtb's output and a per-molecule summary
geometry = snakemake.params.geometry
table = run_geometry_shard(
    molecules_csv=snakemake.input.molecules,
    shard=snakemake.wildcards.shard,
    output_sdf=snakemake.output.sdf,
    output_status=snakemake.output.status,
    settings=xtb_settings_for_job(geometry, snakemake.threads, snakemake.resources),
    reoptimize_qmugs=geometry["reoptimize_qmugs"],
    embed_max_attempts=geometry["embed_max_attempts"],
    seed=snakemake.params.seed,
    log_path=log_path,
)
print(f"{snakemake.wildcards.shard}: {len(table.ok_ids)} ok, {len(table.failed_ids)} failed")
