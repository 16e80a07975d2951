"""Snakemake entry point: Psi4 energies and K·D descriptors of one shard (rule ``descriptors``)."""

from virialff.qc.descriptors import run_descriptor_shard

log_path = snakemake.log[0]
open(log_path, "w").close()
table = run_descriptor_shard(
    geometry_sdf=snakemake.input.sdf,
    output_npz=snakemake.output.npz,
    output_status=snakemake.output.status,
    descriptors_config={**snakemake.params.descriptors, "threads": snakemake.threads},
    log_path=log_path,
)
print(f"{snakemake.wildcards.shard}: {len(table.ok_ids)} ok, {len(table.failed_ids)} failed")
