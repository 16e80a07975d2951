# Training stage (paper section 4): stage-1 K·D embeddings, stage-2 total and kinetic
# potentials, the no-pretraining ablation, test-set evaluation and Figs. 5-7.
# Formats: docs/data-formats.md ("Models, training, predictions, metrics").

_TRAIN_DATASET = f"{RESULTS}/dataset/dataset.pt"
_TRAIN_LABEL = f"run {config['run_name']} ({config['data_scale']} scale)"
_PAPER_SCALE = config["data_scale"] == "paper"
_PRETRAINED = config["training"]["potential"]["pretrained_embeddings"]
# Demo: one thread per training job (small tensors; two jobs share two cores); paper: a GPU.
_TRAIN_THREADS = 4 if _PAPER_SCALE else 1
_TRAIN_RESOURCES = {
    "mem_mb": 64000 if _PAPER_SCALE else 8000,
    "runtime": 24 * 60 if _PAPER_SCALE else 60,
}


wildcard_constraints:
    model_name=r"total|kinetic|total_scratch",


rule train_embedding:
    """Stage 1: MPNN + MLP_atom + MLP_edge on T = Σ KD_atom + Σ KD_bond (MAE, Adam)."""
    input:
        dataset=_TRAIN_DATASET,
    output:
        model=f"{RESULTS}/models/embedding.pt",
        history=f"{RESULTS}/training/embedding_history.csv",
    log:
        f"{LOGS}/train_embedding/train_embedding.log",
    benchmark:
        f"{LOGS}/train_embedding/train_embedding.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
    script:
        "../scripts/train_embedding.py"



rule train_total:
    """Stage 2: charge_net + feats_net for the total energy E (frozen stage-1 embeddings)."""
    input:
        **_potential_inputs(_PRETRAINED),
    output:
        model=f"{RESULTS}/models/total.pt",
        history=f"{RESULTS}/training/total_history.csv",
    params:
        target="total",
        pretrained=_PRETRAINED,
    log:
        f"{LOGS}/train_total/train_total.log",
    benchmark:
        f"{LOGS}/train_total/train_total.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
    script:
        "../scripts/train_potential.py"


rule train_kinetic:
    """Stage 2: the same form for the kinetic energy T (sign of the pair sum flipped)."""
    input:
        **_potential_inputs(_PRETRAINED),
    output:
        model=f"{RESULTS}/models/kinetic.pt",
        history=f"{RESULTS}/training/kinetic_history.csv",
    params:
        target="kinetic",
        pretrained=_PRETRAINED,
    log:
        f"{LOGS}/train_kinetic/train_kinetic.log",
    benchmark:
        f"{LOGS}/train_kinetic/train_kinetic.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
    script:
        "../scripts/train_potential.py"


rule train_total_scratch:
    """Ablation: the total-energy model with its embedding network learned from scratch."""
    input:
        **_potential_inputs(False),
    output:
        model=f"{RESULTS}/models/total_scratch.pt",
        history=f"{RESULTS}/training/total_scratch_history.csv",
    params:
        target="total",
        pretrained=False,
    log:
        f"{LOGS}/train_total_scratch/train_total_scratch.log",
    benchmark:
        f"{LOGS}/train_total_scratch/train_total_scratch.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
    script:
        "../scripts/train_potential.py"


rule evaluate_model:
    """Test-set predictions and MAE/RMSE of one stage-2 model."""
    input:
        model=f"{RESULTS}/models/{{model_name}}.pt",
        dataset=_TRAIN_DATASET,
    output:
        predictions=f"{RESULTS}/predictions/{{model_name}}_test.csv",
        metrics=f"{RESULTS}/metrics/{{model_name}}.json",
    log:
        f"{LOGS}/evaluate_model/{{model_name}}.log",
    benchmark:
        f"{LOGS}/evaluate_model/{{model_name}}.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=32000 if _PAPER_SCALE else 4000,
        runtime=120 if _PAPER_SCALE else 10,
    script:
        "../scripts/evaluate_model.py"


rule plot_fig05:
    """Fig. 5: loss curves, train and test: (a) embeddings, (b) kinetic, (c) total."""
    input:
        embedding=rules.train_embedding.output.history,
        kinetic=rules.train_kinetic.output.history,
        total=rules.train_total.output.history,
        scratch=rules.train_total_scratch.output.history,
    output:
        png=report(
            f"{RESULTS}/figures/fig05_loss_curves.png",
            caption="../report/fig05_loss_curves.rst",
            category="Training",
        ),
        pdf=f"{RESULTS}/figures/fig05_loss_curves.pdf",
    params:
        run_label=_TRAIN_LABEL,
    log:
        f"{LOGS}/plot_fig05/plot_fig05.log",
    benchmark:
        f"{LOGS}/plot_fig05/plot_fig05.benchmark.tsv"
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_fig05_loss_curves.py"


rule plot_fig06:
    """Fig. 6: kinetic energy on the test set: parity (a), error histogram (b)."""
    input:
        predictions=f"{RESULTS}/predictions/kinetic_test.csv",
        metrics=f"{RESULTS}/metrics/kinetic.json",
    output:
        png=report(
            f"{RESULTS}/figures/fig06_kinetic_parity.png",
            caption="../report/fig06_kinetic_parity.rst",
            category="Training",
        ),
        pdf=f"{RESULTS}/figures/fig06_kinetic_parity.pdf",
    params:
        run_label=_TRAIN_LABEL,
        quantity="kinetic energy T",
    log:
        f"{LOGS}/plot_fig06/plot_fig06.log",
    benchmark:
        f"{LOGS}/plot_fig06/plot_fig06.benchmark.tsv"
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_fig06_kinetic_parity.py"


rule plot_fig07:
    """Fig. 7: total energy on the test set: parity (a), error histogram (b)."""
    input:
        predictions=f"{RESULTS}/predictions/total_test.csv",
        metrics=f"{RESULTS}/metrics/total.json",
    output:
        png=report(
            f"{RESULTS}/figures/fig07_total_parity.png",
            caption="../report/fig07_total_parity.rst",
            category="Training",
        ),
        pdf=f"{RESULTS}/figures/fig07_total_parity.pdf",
    params:
        run_label=_TRAIN_LABEL,
        quantity="total energy E",
    log:
        f"{LOGS}/plot_fig07/plot_fig07.log",
    benchmark:
        f"{LOGS}/plot_fig07/plot_fig07.benchmark.tsv"
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_fig07_total_parity.py"


FINAL_TARGETS.extend([
    f"{RESULTS}/figures/fig05_loss_curves.png",
    f"{RESULTS}/figures/fig06_kinetic_parity.png",
    f"{RESULTS}/figures/fig07_total_parity.png",
    f"{RESULTS}/metrics/total.json",
    f"{RESULTS}/metrics/kinetic.json",
    f"{RESULTS}/metrics/total_scratch.json",
])
