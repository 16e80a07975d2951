# Every figure of the paper from one registry: figure number → plotting script, inputs, params,
# caption. Figure rules only plot: they read finished results and never train or compute, so a
# style change reruns in seconds (`snakemake --cores 1 -R plot_fig04`, README "Rebuild one
# figure"), and they run as local rules (on the submitting node of a cluster). Each writes a
# 300 dpi PNG and a PDF beside it (virialff.plots.style.save_figure). File names come from
# virialff.paper.FIGURE_FILES, the list the notebook and the tests read too.

from virialff.config_keys import EMBEDDING_FIGURE_KEYS, POTENTIAL_FIGURE_KEYS  # noqa: E402
from virialff.paper import FIGURE_FILES, OPTIONAL_FIGURE_FILES  # noqa: E402

FIGURES = f"{RESULTS}/figures"
_PREDICTIONS = f"{RESULTS}/predictions"


def _figure(script, category, inputs, params=None, mem_mb=1000):
    return {"script": script, "category": category, "inputs": inputs,
            "params": params or {}, "mem_mb": mem_mb}


FIGURE_REGISTRY = {
    1: _figure("plot_fig01_elements.py", "Dataset",
               {"molecules": rules.subset.output.molecules}, {"run_label": RUN_LABEL}),
    2: _figure("plot_fig02_atoms_per_molecule.py", "Dataset",
               {"molecules": rules.subset.output.molecules}, {"run_label": RUN_LABEL}),
    3: _figure("plot_fig03_energy_per_atom.py", "Dataset",
               {"descriptors": rules.assemble_dataset.output.descriptors},
               {"run_label": RUN_LABEL}),
    # Sizes and the training settings it prints come from the config: a change redraws Fig. 4.
    4: _figure("plot_fig04_architecture.py", "Figures", {},
               {"training": {"embedding": {k: config["training"]["embedding"][k]
                                           for k in EMBEDDING_FIGURE_KEYS},
                             "potential": {k: config["training"]["potential"][k]
                                           for k in POTENTIAL_FIGURE_KEYS}},
                "elements": config["filters"]["elements"]}),
    5: _figure("plot_fig05_loss_curves.py", "Training",
               {"embedding": rules.train_embedding.output.history,
                **{name: f"{RESULTS}/training/{name}_history.csv"
                   for name in ("kinetic", "total")},
                "scratch": f"{RESULTS}/training/total_scratch_history.csv"},
               {"run_label": RUN_LABEL}),
    6: _figure("plot_fig06_kinetic_parity.py", "Training",
               {"predictions": f"{_PREDICTIONS}/kinetic_test.csv",
                "metrics": f"{RESULTS}/metrics/kinetic.json"},
               {"run_label": RUN_LABEL, "quantity": "kinetic energy T"}),
    7: _figure("plot_fig07_total_parity.py", "Training",
               {"predictions": f"{_PREDICTIONS}/total_test.csv",
                "metrics": f"{RESULTS}/metrics/total.json"},
               {"run_label": RUN_LABEL, "quantity": "total energy E"}),
    8: _figure("plot_fig08_s66_dft_vs_reference.py", "Evaluation",
               {"table": rules.s66_metrics.output.table,
                "metrics": rules.s66_metrics.output.metrics}),
    9: _figure("plot_fig09_s66_interaction_energies.py", "Evaluation",
               {"table": rules.s66_metrics.output.table,
                "metrics": rules.s66_metrics.output.metrics}),
    10: _figure("plot_fig10_conformer_energies.py", "Evaluation",
                {"relative": rules.conformer_metrics.output.relative,
                 "metrics": rules.conformer_metrics.output.metrics}),
    11: _figure("plot_fig11_lj_parameters.py", "Evaluation",
                {"parameters": rules.predicted_parameters.output.parameters,
                 "typical": "data/references/schmid2011_gromos_lj.yaml"}, mem_mb=2000),
    12: _figure("plot_fig12_charges.py", "Evaluation",
                {"charges": rules.predicted_parameters.output.charges}, mem_mb=2000),
    13: _figure("plot_fig13_pair_potentials.py", "Figures",
                {"parameters": rules.predicted_parameters.output.parameters,
                 # for the Coulomb part of E_LR
                 "charges": rules.predicted_parameters.output.charges},
                # pairs sampled per kind for the median curve
                {"max_pairs": 5000, "seed": config["seed"]}, mem_mb=2000),
    # beyond the paper: GB-FFs and GAFF2/AM1-BCC beside this model (the paper-faithful
    # "total" is its potential in the simulation check)
    16: _figure("plot_fig16_force_fields.py", "Evaluation",
                {"s66_table": rules.s66_metrics.output.table,
                 "s66_metrics": rules.s66_metrics.output.metrics,
                 "relative": rules.conformer_metrics.output.relative,
                 "conformer_metrics": rules.conformer_metrics.output.metrics,
                 "simulations": expand(f"{RESULTS}/metrics/simulation/{{name}}.json",
                                       name=["total", *SIMULATED_FORCE_FIELDS])},
                {"methods": ["virialff", *SIMULATED_FORCE_FIELDS],
                 "simulated": ["total", *SIMULATED_FORCE_FIELDS]}),
}


if config["learning_curve"]["enabled"]:
    FIGURE_REGISTRY[14] = _figure("plot_fig14_learning_curve.py", "Training",
                                  {"metrics": rules.learning_curve_metrics.output.metrics},
                                  {"run_label": RUN_LABEL})

if config["training"]["interactions"]["enabled"]:
    FIGURE_REGISTRY[15] = _figure("plot_fig15_interaction_training.py", "Interaction training",
                                  {"selection": rules.train_interactions.output.selection,
                                   "metrics": rules.interaction_metrics.output.metrics,
                                   "table": rules.interaction_metrics.output.table},
                                  {"run_label": RUN_LABEL})

_FIGURE_NAMES = {**FIGURE_FILES, **OPTIONAL_FIGURE_FILES}
#: The figures of this run, in the paper's order (the paper rule reads exactly these).
PAPER_FIGURES = [_FIGURE_NAMES[n].removesuffix(".png") for n in sorted(FIGURE_REGISTRY)]

for _number, _spec in FIGURE_REGISTRY.items():
    _stem = _FIGURE_NAMES[_number].removesuffix(".png")

    rule:
        name:
            f"plot_fig{_number:02d}"
        localrule: True
        input:
            **_spec["inputs"],
        output:
            png=report(
                f"{FIGURES}/{_stem}.png",
                caption=f"../report/{_stem}.rst",
                category=_spec["category"],
            ),
            pdf=f"{FIGURES}/{_stem}.pdf",
        params:
            # the script directive is evaluated when the job runs, not here: a loop variable
            # would name the last figure's script, so the script travels as a param
            script=_spec["script"],
            **_spec["params"],
        log:
            f"{LOGS}/plot_fig{_number:02d}/plot_fig{_number:02d}.log",
        benchmark:
            f"{LOGS}/plot_fig{_number:02d}/plot_fig{_number:02d}.benchmark.tsv"
        resources:
            mem_mb=_spec["mem_mb"],
            runtime=10,
        conda:
            "../envs/plot.yaml"
        script:
            "../scripts/{params.script}"

    FINAL_TARGETS.extend([f"{FIGURES}/{_stem}.png", f"{FIGURES}/{_stem}.pdf"])
