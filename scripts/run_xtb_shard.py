"""Snakemake entry point: GFN2-xTB geometries of one shard (rule ``geometry``)."""

from virialff.qc.geometry import run_geometry_shard

log_path = snakemake.log[0]
open(log_path, "w").close()  # the library appends xtb's output and a per-molecule summary
table = run_geometry_shard(
    molecules_csv=snakemake.input.molecules,
    shard=snakemake.wildcards.shard,
    output_sdf=snakemake.output.sdf,
    output_status=snakemake.output.status,
    geometry_config={**snakemake.params.geometry, "threads": snakemake.threads},
    seed=snakemake.params.seed,
    log_path=log_path,
)
print(f"{snakemake.wildcards.shard}: {len(table.ok_ids)} ok, {len(table.failed_ids)} failed")
