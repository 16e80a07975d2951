# Conformer relative energies (paper section 5.4; the paper used 117 PC9 molecules with 7–9
# heavy atoms). Molecules the model never saw: the test split of results/dataset/molecules.csv,
# or evaluation.conformers.external_molecules_csv, less every molecule whose canonical key is a
# training molecule's. Conformer search (CREST when `crest` is on PATH, else RDKit ETKDG +
# GFN2-xTB + energy window + RMSD de-duplication; the output records which engine ran),
# ωB97X-D/def2-SVP reference energies (Psi4; with dft_optimize at re-de-duplicated DFT-optimised
# geometries), every method's energies at the reference geometries, metrics, Fig. 10.
# Result settings reach the scripts as params (settings(...): the schema's defaults filled in,
# execution keys dropped), execution settings as threads and resources. Rules and outputs reuse
# BENCH, BENCH_METHODS, BENCH_METHOD_ENVS, MODEL_TOTAL and ANI_MODEL from rules/benchmarks.smk.

CONFORMERS_CFG = config["evaluation"]["conformers"]


rule conformer_search:
    input:
        molecules=f"{RESULTS}/dataset/molecules.csv",
        **({"external": CONFORMERS_CFG["external_molecules_csv"]}
           if CONFORMERS_CFG["external_molecules_csv"] else {}),
    output:
        conformers=f"{BENCH}/conformers/conformers.json",
        status=f"{BENCH}/conformers/conformers.status.csv",
    log:
        f"{LOGS}/conformer_search/conformers.log",
    benchmark:
        f"{LOGS}/conformer_search/conformers.benchmark.tsv"
    params:
        conformers=settings("evaluation.conformers"),
        geometry=settings("geometry"),
        elements=config["filters"]["elements"],
        seed=config["seed"],
    threads: config["geometry"]["threads"]
    resources:
        mem_mb=2000,
        runtime=120,
        xtb_executable=config["geometry"]["xtb_executable"],
        xtb_timeout_s=int(config["geometry"]["timeout_s"]),
    conda:
        "../envs/xtb.yaml"
    script:
        "../scripts/run_conformer_search.py"


rule conformer_dft:
    """ωB97X-D/def2-SVP energies of every conformer (one Psi4 process per chunk) and the
    geometries of that reference, at which every method is evaluated."""
    input:
        conformers=rules.conformer_search.output.conformers,
    output:
        dft=f"{BENCH}/conformers/dft.csv",
        reference=f"{BENCH}/conformers/reference_conformers.json",
    log:
        f"{LOGS}/conformer_dft/conformers.log",
    benchmark:
        f"{LOGS}/conformer_dft/conformers.benchmark.tsv"
    params:
        descriptors=settings("descriptors"),
        conformers=settings("evaluation.conformers"),
    threads: config["descriptors"]["threads"]
    resources:
        mem_mb=_memory_mb(config["descriptors"]["memory"]) + 2000,
        runtime=720,
        psi4_executable=config["descriptors"]["psi4_executable"],
        psi4_memory=config["descriptors"]["memory"],
        psi4_timeout_s=int(config["descriptors"]["timeout_s"]),
        dft_chunk_size=CONFORMERS_CFG["dft_chunk_size"],
    conda:
        "../envs/psi4.yaml"
    script:
        "../scripts/run_conformer_dft.py"


rule conformers_predict:
    """One method's total energy of every conformer at the reference geometries (every method
    of PREDICTED_METHODS; inputs, settings and conda environment from its key)."""
    input:
        unpack(lambda w: {"systems": rules.conformer_dft.output.reference,
                          **method_inputs(w.method)}),
    output:
        predictions=f"{BENCH}/conformers/predictions/{{method}}.csv",
    wildcard_constraints:
        method="|".join(PREDICTED_METHODS),
    log:
        f"{LOGS}/conformers_predict_{{method}}/conformers.log",
    benchmark:
        f"{LOGS}/conformers_predict_{{method}}/conformers.benchmark.tsv"
    params:
        benchmark="conformers",
        data_dir=None,  # unused for conformers
        method=lambda w: method_params(w.method)["method"],
        geometry=lambda w: method_params(w.method).get("geometry"),
        ani_model=lambda w: method_params(w.method).get("ani_model"),
        gaff2=lambda w: method_params(w.method).get("gaff2"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        xtb_executable=config["geometry"]["xtb_executable"],
        xtb_timeout_s=int(config["geometry"]["timeout_s"]),
        amber_timeout_s=int(config["gaff2"]["timeout_s"]),
        device=config["training"]["device"],
    conda:
        lambda w: method_env(w.method)
    script:
        "../scripts/run_benchmark_method.py"


rule conformer_metrics:
    localrule: True
    input:
        conformers=rules.conformer_search.output.conformers,
        reference=rules.conformer_dft.output.reference,
        dft=rules.conformer_dft.output.dft,
        predictions=expand(f"{BENCH}/conformers/predictions/{{method}}.csv",
                           method=BENCH_METHODS),
    output:
        relative=f"{BENCH}/conformers/relative_energies.csv",
        metrics=f"{RESULTS}/metrics/conformers.json",
    log:
        f"{LOGS}/conformer_metrics/conformers.log",
    benchmark:
        f"{LOGS}/conformer_metrics/conformers.benchmark.tsv"
    params:
        methods=BENCH_METHODS,
        run_name=config["run_name"],
        data_scale=config["data_scale"],
        dft_method=f'{config["descriptors"]["method"]}/{config["descriptors"]["basis"]}',
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/rdkit.yaml"
    script:
        "../scripts/run_conformer_metrics.py"


FINAL_TARGETS.extend([
    rules.conformer_metrics.output.metrics,
])
