"""Snakemake entry point: Psi4 energies and K·D descriptors of one shard (rule ``descriptors``),
restored from the descriptor cache when it holds the shard's input digest."""

from virialff.qc.descriptors import run_descriptor_shard
from virialff.workflow import descriptors_for_job

log_path = snakemake.log[0]
open(log_path, "w").close()
descriptors = snakemake.params.descriptors
table = run_descriptor_shard(
    geometry_sdf=snakemake.input.sdf,
    output_npz=snakemake.output.npz,
    output_status=snakemake.output.status,
    section=descriptors_for_job(descriptors, snakemake.threads, snakemake.resources),
    cache_root=snakemake.resources.descriptor_cache or None,
    log_path=log_path,
)
print(f"{snakemake.wildcards.shard}: {len(table.ok_ids)} ok, {len(table.failed_ids)} failed")
