# Descriptor stage: E, T = Tr(DK), KD_atom and the KD of every bond for every molecule of a
# shard, all in ONE Psi4 process per shard (virialff.qc.psi4_process), or restored from the
# content-addressed cache of descriptors.cache when it holds a shard with the same input digest
# (molecules, geometries, method, basis, SCF settings, Psi4 version). Failures (SCF not
# converged, NaN, Psi4 errors) go to the status table; the npz holds converged molecules only.


rule descriptors:
    input:
        sdf=f"{RESULTS}/geometries/{{shard}}.sdf",
    output:
        npz=f"{RESULTS}/descriptors/{{shard}}.npz",
        status=f"{RESULTS}/descriptors/{{shard}}.status.csv",
    log:
        f"{LOGS}/descriptors/{{shard}}.log",
    benchmark:
        f"{LOGS}/descriptors/{{shard}}.benchmark.tsv"
    params:
        descriptors=settings("descriptors"),
    threads: config["descriptors"]["threads"]
    resources:
        # Psi4's own limit plus the interpreter, integrals outside the budget and numpy copies.
        mem_mb=_memory_mb(config["descriptors"]["memory"]) + 2000,
        # wB97X-D/def2-SVP: seconds for demo molecules, ~2-15 min for QMugs-sized ones.
        runtime=10 + 15 * config["sharding"]["molecules_per_shard"],
        psi4_executable=config["descriptors"]["psi4_executable"],
        psi4_memory=config["descriptors"]["memory"],
        psi4_timeout_s=int(config["descriptors"]["timeout_s"]),
        descriptor_cache=config["descriptors"]["cache"] or "",
    conda:
        "../envs/psi4.yaml"
    script:
        "../scripts/run_psi4_shard.py"
