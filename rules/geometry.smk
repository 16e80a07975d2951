# Geometry stage: GFN2-xTB geometries, one xtb run per molecule, one job per shard.
# Demo rows: SMILES -> RDKit ETKDG (+MMFF94) -> xtb --opt, then a topology check. QMugs rows:
# the published GFN2-xTB conformer passes through unless geometry.reoptimize_qmugs. Reference
# rows: the cached geometry of data/reference passes through. Failures go to the status table.
# Outputs are pulled by the dataset stage; nothing is added to FINAL_TARGETS here.


rule geometry:
    input:
        molecules=f"{RESULTS}/dataset/molecules.csv",
    output:
        sdf=f"{RESULTS}/geometries/{{shard}}.sdf",
        status=f"{RESULTS}/geometries/{{shard}}.status.csv",
    log:
        f"{LOGS}/geometry/{{shard}}.log",
    benchmark:
        f"{LOGS}/geometry/{{shard}}.benchmark.tsv"
    params:
        geometry=settings("geometry"),
        seed=config["seed"],
    threads: config["geometry"]["threads"]
    resources:
        mem_mb=2000,
        # xtb --opt of a QMugs-sized molecule takes up to a few minutes on one core.
        runtime=10 + 3 * config["sharding"]["molecules_per_shard"],
        xtb_executable=config["geometry"]["xtb_executable"],
        xtb_timeout_s=int(config["geometry"]["timeout_s"]),
    conda:
        "../envs/xtb.yaml"
    script:
        "../scripts/run_xtb_shard.py"
