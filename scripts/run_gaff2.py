"""Snakemake entry point: GAFF2/AM1-BCC parameters of one geometry shard (rule ``gaff2``;
:mod:`virialff.evaluate.gaff2_stage`)."""

from virialff.evaluate.gaff2_stage import run_gaff2_shard

log_path = snakemake.log[0]
open(log_path, "w").close()  # the library appends a line per molecule
table = run_gaff2_shard(snakemake.input.sdf, snakemake.output.npz, snakemake.output.status,
                        charge_method=snakemake.params.gaff2["charge_method"],
                        timeout_s=snakemake.resources.amber_timeout_s, log_path=log_path)
print(f"{snakemake.wildcards.shard}: {len(table.ok_ids)} ok, {len(table.failed_ids)} failed")
