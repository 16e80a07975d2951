# Benchmarks (paper sections 5.2, 5.3, 5.5): S66 interaction energies, Watson–Crick base pairs
# (Table 1) and the physical content of the predicted parameters (Figs 11, 12).
# Expensive steps (xtb, Psi4, model inference) are separate rules from the plots; figure rules
# only read finished results. Sign convention everywhere: E_int = E_A + E_B − E_AB (positive =
# bound), the paper's Eq. 25. Bundled inputs: data/benchmarks/ (scripts/extract_reference_sets.py).

BENCH = f"{RESULTS}/benchmarks"
BENCH_DATA = "data/benchmarks"
from virialff.evaluate.methods import BENCHMARK_METHODS  # noqa: E402

BENCH_METHODS = list(BENCHMARK_METHODS)
# conda env per method: model inference and TorchANI need torch, GFN2-xTB the xtb program.
BENCH_METHOD_ENVS = {
    "virialff": "../envs/train.yaml",
    "ani1x": "../envs/train.yaml",
    "gfn2_xtb": "../envs/xtb.yaml",
    "mmff94": "../envs/rdkit.yaml",
    "gaff2": "../envs/ambertools.yaml",
    "gbffs": "../envs/train.yaml",
}
MODEL_TOTAL = f"{RESULTS}/models/total.pt"
#: GB-FFs (rules/gbffs.smk, rule train_gbffs): Amber-form parameters from a network.
MODEL_GBFFS = f"{RESULTS}/models/gbffs.pt"
ANI_MODEL = config["evaluation"]["ani"]["model"]
#: Method key of the charge ablation (rules/train.smk) and of the interaction-trained model.
CHARGE_ABLATION_KEY = f"virialff_{CHARGE_ABLATION_MODEL.removeprefix('total_')}"
INTERACTION_KEY = "virialff_interactions"
#: Other total-energy models evaluated like "virialff" (the method key of MODEL_TOTAL) on S66
#: and the base pairs: method key → model file.
VIRIALFF_VARIANTS = {
    CHARGE_ABLATION_KEY: f"{RESULTS}/models/{CHARGE_ABLATION_MODEL}.pt",
    INTERACTION_KEY: MODEL_INTERACTIONS,
}
#: Other GB-FFs models evaluated like "gbffs": method key → model file.
GBFFS_INTERACTION_KEY = "gbffs_interactions"
GBFFS_VARIANTS = {GBFFS_INTERACTION_KEY: MODEL_GBFFS_INTERACTIONS}
#: Every method key with a prediction rule per benchmark: the methods and the model variants.
PREDICTED_METHODS = [*BENCH_METHODS, *VIRIALFF_VARIANTS, *GBFFS_VARIANTS]


# Every bundled geometry, declared as inputs so that edited reference files re-run the rules.
BUNDLED_XYZ = {
    name: sorted(str(p) for p in Path(BENCH_DATA, name).rglob("*.xyz"))
    for name in ("s66", "base_pairs")
}


for _benchmark in ("s66", "base_pairs"):

    rule:
        name:
            f"{_benchmark}_geometries"
        input:
            reference=f"{BENCH_DATA}/{_benchmark}/{_benchmark}.csv",
            xyz=BUNDLED_XYZ[_benchmark],
        output:
            geometries=f"{BENCH}/{_benchmark}/geometries.json",
            status=f"{BENCH}/{_benchmark}/geometries.status.csv",
        log:
            f"{LOGS}/{_benchmark}_geometries/{_benchmark}.log",
        benchmark:
            f"{LOGS}/{_benchmark}_geometries/{_benchmark}.benchmark.tsv"
        params:
            benchmark=_benchmark,
            data_dir=lambda w, input: str(Path(input.reference).parent.parent),
            geometry=settings("geometry"),
        threads: config["geometry"]["threads"]
        resources:
            mem_mb=2000,
            runtime=60,
            xtb_executable=config["geometry"]["xtb_executable"],
            xtb_timeout_s=int(config["geometry"]["timeout_s"]),
        conda:
            "../envs/xtb.yaml"
        script:
            "../scripts/run_benchmark_geometries.py"


# S66 at the geometries where CCSD(T)/CBS was computed (the bundled dimers, unoptimised).
rule s66_reference_geometries:
    """The bundled S66 dimers, unchanged, as a systems JSON (no optimisation)."""
    input:
        reference=f"{BENCH_DATA}/s66/s66.csv",
        xyz=BUNDLED_XYZ["s66"],
    output:
        geometries=f"{BENCH}/s66_reference/geometries.json",
    params:
        data_dir=lambda w, input: str(Path(input.reference).parent.parent),
    log:
        f"{LOGS}/s66_reference_geometries/s66.log",
    benchmark:
        f"{LOGS}/s66_reference_geometries/s66.benchmark.tsv"
    localrule: True
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/rdkit.yaml"
    script:
        "../scripts/write_s66_reference_geometries.py"


#: prediction set → (benchmark, systems JSON): every method runs on every set.
PREDICTION_SETS = {
    "s66": ("s66", f"{BENCH}/s66/geometries.json"),
    "base_pairs": ("base_pairs", f"{BENCH}/base_pairs/geometries.json"),
    "s66_reference": ("s66", rules.s66_reference_geometries.output.geometries),
}


rule benchmark_predict:
    """One method's interaction energies on one prediction set (every method of
    PREDICTED_METHODS on every set of PREDICTION_SETS; the method's inputs, settings and conda
    environment come from its key: method_inputs, method_params, method_env)."""
    input:
        unpack(_prediction_inputs),
    output:
        predictions=f"{BENCH}/{{prediction_set}}/predictions/{{method}}.csv",
    wildcard_constraints:
        prediction_set="|".join(PREDICTION_SETS),
        method="|".join(PREDICTED_METHODS),
    log:
        f"{LOGS}/{{prediction_set}}_predict_{{method}}/{{prediction_set}}.log",
    benchmark:
        f"{LOGS}/{{prediction_set}}_predict_{{method}}/{{prediction_set}}.benchmark.tsv"
    params:
        benchmark=lambda w: PREDICTION_SETS[w.prediction_set][0],
        data_dir=lambda w, input: str(Path(input.reference).parent.parent),
        method=lambda w: method_params(w.method)["method"],
        geometry=lambda w: method_params(w.method).get("geometry"),
        ani_model=lambda w: method_params(w.method).get("ani_model"),
        gaff2=lambda w: method_params(w.method).get("gaff2"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        xtb_executable=config["geometry"]["xtb_executable"],
        xtb_timeout_s=int(config["geometry"]["timeout_s"]),
        amber_timeout_s=int(config["gaff2"]["timeout_s"]),
        device=config["training"]["device"],
    conda:
        lambda w: method_env(w.method)
    script:
        "../scripts/run_benchmark_method.py"


rule charge_ablation:
    """S66 and base pairs with free and with neutral molecular charges, same data (Table 2)."""
    localrule: True
    input:
        s66_reference=f"{BENCH_DATA}/s66/s66.csv",
        s66_xyz=BUNDLED_XYZ["s66"],
        s66_dft=f"{BENCH}/s66/dft_cp.csv",
        base_pairs_reference="data/references/mo2006_base_pairs.yaml",
        base_pairs_xyz=BUNDLED_XYZ["base_pairs"],
        predictions=[f"{BENCH}/{b}/predictions/{m}.csv" for b in ("s66", "base_pairs")
                     for m in ("virialff", CHARGE_ABLATION_KEY)],
        models=[MODEL_TOTAL, VIRIALFF_VARIANTS[CHARGE_ABLATION_KEY]],
        dataset=f"{RESULTS}/dataset/dataset.pt",
    output:
        metrics=f"{RESULTS}/metrics/charge_ablation.json",
        csv=f"{RESULTS}/tables/table02_charge_ablation.csv",
        md=f"{RESULTS}/tables/table02_charge_ablation.md",
    params:
        run_name=config["run_name"],
        data_scale=config["data_scale"],
        neutral_charges=_NEUTRAL,
        variants=[CHARGE_ABLATION_KEY],
    log:
        f"{LOGS}/charge_ablation/charge_ablation.log",
    resources:
        mem_mb=4000,
        runtime=10,
        device=config["training"]["device"],
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/run_charge_ablation.py"


rule s66_dft_cp:
    """ωB97X-D/def2-SVP counterpoise-corrected E_int (Psi4) on the dft_max_dimers smallest."""
    input:
        geometries=f"{BENCH}/s66/geometries.json",
    output:
        predictions=f"{BENCH}/s66/dft_cp.csv",
    log:
        f"{LOGS}/s66_dft_cp/s66.log",
    benchmark:
        f"{LOGS}/s66_dft_cp/s66.benchmark.tsv"
    params:
        descriptors=settings("descriptors"),
        s66=settings("evaluation.s66"),
    threads: config["descriptors"]["threads"]
    resources:
        mem_mb=_memory_mb(config["descriptors"]["memory"]) + 2000,
        runtime=600,
        psi4_executable=config["descriptors"]["psi4_executable"],
        psi4_memory=config["descriptors"]["memory"],
        psi4_timeout_s=int(config["descriptors"]["timeout_s"]),
        dft_chunk_size=config["evaluation"]["s66"]["dft_chunk_size"],
    conda:
        "../envs/psi4.yaml"
    script:
        "../scripts/run_s66_dft.py"


rule s66_metrics:
    localrule: True
    input:
        geometries=f"{BENCH}/s66/geometries.json",
        reference=f"{BENCH_DATA}/s66/s66.csv",
        xyz=BUNDLED_XYZ["s66"],
        dft=rules.s66_dft_cp.output.predictions,
        predictions=expand(f"{BENCH}/s66/predictions/{{method}}.csv", method=BENCH_METHODS),
    output:
        table=f"{BENCH}/s66/interaction_energies.csv",
        metrics=f"{RESULTS}/metrics/s66.json",
    log:
        f"{LOGS}/s66_metrics/s66.log",
    benchmark:
        f"{LOGS}/s66_metrics/s66.benchmark.tsv"
    params:
        benchmark="s66",
        methods=BENCH_METHODS,
        data_dir=lambda w, input: str(Path(input.reference).parent.parent),
        run_name=config["run_name"],
        data_scale=config["data_scale"],
        dft_max_dimers=config["evaluation"]["s66"]["dft_max_dimers"],
        dft_method=f'{config["descriptors"]["method"]}/{config["descriptors"]["basis"]}',
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/rdkit.yaml"
    script:
        "../scripts/run_benchmark_metrics.py"


rule base_pairs_metrics:
    localrule: True
    input:
        geometries=f"{BENCH}/base_pairs/geometries.json",
        reference=f"{BENCH_DATA}/base_pairs/base_pairs.csv",
        xyz=BUNDLED_XYZ["base_pairs"],
        mo2006="data/references/mo2006_base_pairs.yaml",
        predictions=expand(f"{BENCH}/base_pairs/predictions/{{method}}.csv",
                           method=BENCH_METHODS),
    output:
        table=f"{BENCH}/base_pairs/interaction_energies.csv",
        metrics=f"{RESULTS}/metrics/base_pairs.json",
    log:
        f"{LOGS}/base_pairs_metrics/base_pairs.log",
    benchmark:
        f"{LOGS}/base_pairs_metrics/base_pairs.benchmark.tsv"
    params:
        benchmark="base_pairs",
        methods=BENCH_METHODS,
        data_dir=lambda w, input: str(Path(input.reference).parent.parent),
        run_name=config["run_name"],
        data_scale=config["data_scale"],
        dft_max_dimers=0,
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/rdkit.yaml"
    script:
        "../scripts/run_benchmark_metrics.py"


rule make_table01:
    """Table 1: A–T and G–C interaction energies (reference, this model, ANI, GFN2-xTB, MMFF94,
    and beyond the paper GAFF2/AM1-BCC and GB-FFs)."""
    localrule: True
    input:
        table=rules.base_pairs_metrics.output.table,
        metrics=rules.base_pairs_metrics.output.metrics,
        reference="data/references/mo2006_base_pairs.yaml",
    output:
        csv=report(
            f"{RESULTS}/tables/table01_base_pairs.csv",
            caption="../report/table01_base_pairs.rst",
            category="Evaluation",
        ),
        md=f"{RESULTS}/tables/table01_base_pairs.md",
    log:
        f"{LOGS}/make_table01/make_table01.log",
    benchmark:
        f"{LOGS}/make_table01/make_table01.benchmark.tsv"
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/plot.yaml"
    script:
        "../scripts/make_table01_base_pairs.py"


rule predicted_parameters:
    """C0…C13, σ, ε of every atom pair and the charges of the validation molecules."""
    input:
        model=MODEL_TOTAL,
        molecules=f"{RESULTS}/dataset/molecules.csv",
        geometries=expand(f"{RESULTS}/geometries/{{shard}}.sdf", shard=SHARDS),
    output:
        parameters=f"{RESULTS}/evaluation/predicted_parameters.csv",
        charges=f"{RESULTS}/evaluation/predicted_charges.csv",
    log:
        f"{LOGS}/predicted_parameters/predicted_parameters.log",
    benchmark:
        f"{LOGS}/predicted_parameters/predicted_parameters.benchmark.tsv"
    params:
        parameters=settings("evaluation.parameters"),
    resources:
        mem_mb=4000,
        runtime=30,
        device=config["training"]["device"],
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/run_predicted_parameters.py"


#: Every trained total-energy model that the simulation check runs: the paper-faithful one,
#: the force-trained ones (training.forces) and the interaction-stage one.
SIMULATED_MODELS = ["total"]
if config["training"]["forces"]["enabled"]:
    SIMULATED_MODELS += list(FORCE_MODELS)
if config["training"]["interactions"]["enabled"]:
    SIMULATED_MODELS.append(Path(MODEL_INTERACTIONS).stem)
#: ... and the force fields of the Amber form it runs beside them (GAFF2 from the gaff2 stage's
#: parameters, GB-FFs from its model file).
SIMULATED_FORCE_FIELDS = ["gaff2", "gbffs"]


rule simulation_stability:
    """Can one simulate with a trained model or a force field? BFGS from the GFN2-xTB minimum
    and Langevin MD at 300 K on test-split molecules (virialff.evaluate.simulation and, for the
    force fields, virialff.evaluate.amber_simulation; paper section 3.9)."""
    input:
        unpack(_simulation_inputs),
    output:
        metrics=f"{RESULTS}/metrics/simulation/"
        f"{{model_name,{'|'.join(SIMULATED_MODELS + SIMULATED_FORCE_FIELDS)}}}.json",
    log:
        f"{LOGS}/simulation_stability/{{model_name}}.log",
    benchmark:
        f"{LOGS}/simulation_stability/{{model_name}}.benchmark.tsv"
    params:
        simulation=settings("evaluation.simulation"),
        seed=config["seed"],
        # the script travels as a param (see rules/figures.smk): models and force fields differ
        script=lambda w: ("run_simulation_force_field.py" if w.model_name in
                          SIMULATED_FORCE_FIELDS else "run_simulation_stability.py"),
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/{params.script}"


rule simulation_summary:
    """One table of the simulation check and the test-split errors for every simulated model
    (results/metrics/simulation.json; results/tables/forces_ablation.{csv,md}); the force
    fields' checks beside them in simulation.json (force_field_rows, by_model)."""
    input:
        simulations=expand(f"{RESULTS}/metrics/simulation/{{name}}.json", name=SIMULATED_MODELS),
        metrics=expand(f"{RESULTS}/metrics/{{name}}.json", name=SIMULATED_MODELS),
        force_fields=expand(f"{RESULTS}/metrics/simulation/{{name}}.json",
                            name=SIMULATED_FORCE_FIELDS),
    output:
        summary=f"{RESULTS}/metrics/simulation.json",
        csv=f"{RESULTS}/tables/forces_ablation.csv",
        md=f"{RESULTS}/tables/forces_ablation.md",
    params:
        models=SIMULATED_MODELS,
        force_fields=SIMULATED_FORCE_FIELDS,
    log:
        f"{LOGS}/simulation_summary/simulation_summary.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/make_simulation_summary.py"


FINAL_TARGETS.extend([
    rules.simulation_summary.output.summary,
    rules.simulation_summary.output.md,
    rules.charge_ablation.output.metrics,
    rules.make_table01.output.csv,
    rules.make_table01.output.md,
    rules.s66_metrics.output.metrics,
    rules.base_pairs_metrics.output.metrics,
])
