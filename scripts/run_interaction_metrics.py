"""Snakemake script: the interaction-trained model beside the paper-faithful one on every
benchmark (rule interaction_metrics) → ``results/metrics/interactions.json`` and the S66
comparison table (:mod:`virialff.evaluate.interaction_model`)."""

from virialff.evaluate.interaction_model import write_interaction_model_metrics
from virialff.evaluate.runs import load_bundled_systems
from virialff.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0], "virialff.evaluate")
inp, params = snakemake.input, snakemake.params


def by_method(paths: list[str]) -> dict[str, str]:
    return dict(zip(params.methods, paths, strict=True))


metrics = write_interaction_model_metrics(
    snakemake.output.metrics,
    snakemake.output.table,
    model_paths={"virialff": inp.model_paper, "virialff_interactions": inp.model_interactions,
                 **({"gbffs_interactions": inp.model_gbffs_interactions[0]}
                    if inp.model_gbffs_interactions else {})},
    molecular_metrics={"virialff": inp.molecular_paper,
                       "virialff_interactions": inp.molecular_interactions},
    s66_systems=load_bundled_systems("s66", params.data_dir),
    s66_reference_predictions=by_method(inp.s66_reference),
    s66_xtb_predictions=by_method(inp.s66_xtb),
    s66_dft_cp=inp.s66_dft_cp,
    base_pair_systems=load_bundled_systems("base_pairs", params.data_dir),
    base_pair_reference=inp.base_pair_reference,
    base_pair_predictions=by_method(inp.base_pairs),
    conformer_dft=inp.conformer_dft,
    conformer_predictions=by_method(inp.conformers),
    selection=inp.selection,
    dimer_summary=inp.dimer_summary,
    published=inp.published,
    gbffs_selection=inp.gbffs_selection[0] if inp.gbffs_selection else None,
    run_name=params.run_name,
    data_scale=params.data_scale,
)
for block in ("s66_vs_ccsdt_cbs", "s66_vs_dft_cp", "base_pairs", "conformers"):
    for method, entry in metrics[block]["methods"].items():
        log.info("%s %s: available=%s n=%s MAE=%s RMSE=%s", block, method, entry["available"],
                 entry["n"], entry["mae_kcal_mol"], entry["rmse_kcal_mol"])
log.info("molecular test: %s", metrics["molecular_test"])
log.info("goals: %s", metrics["goals"])
