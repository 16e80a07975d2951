"""Snakemake script: the SSI/BBI training dimers of the interaction stage (rule prepare_dimers).

Reads the Psi4 database modules as text (``params.databases_dir``), perceives every monomer's
bonds with RDKit, leaves out charged, open-shell and test-set (S66, base pairs) pairs, splits
by monomer (or monomer pair: ``params.split_unit``) and writes ``output.dimers`` and
``output.summary``
(:func:`virialff.train.dimer_databases.prepare_dimers`).
"""

from pathlib import Path

from virialff.logs import setup_logging
from virialff.train.dimer_databases import prepare_dimers

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0], "virialff.data")
params = snakemake.params
summary = prepare_dimers(
    databases_dir=params.databases_dir,
    output_path=snakemake.output.dimers,
    summary_path=snakemake.output.summary,
    names=tuple(params.databases),
    tables=dict(params.reference_tables),
    val_fraction=float(params.val_fraction),
    seed=int(params.seed),
    split_unit=str(params.split_unit),
    benchmarks_dir=Path(snakemake.input.s66).parent.parent,
)
for name, database in summary["databases"].items():
    log.info("%s (%s): %d of %d members kept, skipped %s", name, database["reference_table"],
             database["n_kept"], database["n_members"], database["skipped_by_reason"])
split = summary["split"]
log.info("%d training and %d validation dimers (split by %s): %d distinct monomers in training, "
         "%d in validation, %d of them never in training", split["n_train"], split["n_val"],
         split["unit"], split["n_monomers_train"], split["n_monomers_val"],
         split["n_monomers_val_unseen_in_train"])
