# GAFF2 stage: GAFF2 atom types and parameters with AM1-BCC charges (AmberTools antechamber,
# sqm, parmchk2, tleap; read back with ParmEd) for every molecule of a geometry shard, one
# parameter set per molecule from its first geometry (virialff.evaluate.gaff2_stage). Failures
# (antechamber_failed, with antechamber's message) are rows of the status table; the shard goes
# on. Read by the simulation check of GAFF2 (rules/benchmarks.smk) and every shard is a final
# target, so the demo run makes them all.


rule gaff2:
    input:
        sdf=f"{RESULTS}/geometries/{{shard}}.sdf",
    output:
        npz=f"{RESULTS}/gaff2/{{shard}}.npz",
        status=f"{RESULTS}/gaff2/{{shard}}.status.csv",
    log:
        f"{LOGS}/gaff2/{{shard}}.log",
    benchmark:
        f"{LOGS}/gaff2/{{shard}}.benchmark.tsv"
    params:
        gaff2=settings("gaff2"),
    threads: 1
    resources:
        mem_mb=2000,
        # sqm's AM1-BCC: about a second for a demo molecule, a minute for a QMugs-sized one.
        runtime=10 + 2 * config["sharding"]["molecules_per_shard"],
        amber_timeout_s=int(config["gaff2"]["timeout_s"]),
    conda:
        "../envs/ambertools.yaml"
    script:
        "../scripts/run_gaff2.py"


FINAL_TARGETS.extend(expand(f"{RESULTS}/gaff2/{{shard}}.status.csv", shard=SHARDS))
