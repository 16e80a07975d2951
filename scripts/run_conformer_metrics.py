"""Snakemake entry point: relative conformer energies of every method vs DFT and
``results/metrics/conformers.json`` (rule ``conformer_metrics``)."""

import pandas as pd

from virialff.evaluate.conformers import coverage, read_conformers, relative_energies
from virialff.evaluate.interactions import method_status
from virialff.evaluate.methods import BENCHMARK_METHODS
from virialff.evaluate.metrics import error_stats, method_entry, write_metrics
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
dft = pd.read_csv(snakemake.input.dft, dtype={"message": str, "reason": str})
paths = dict(zip(snakemake.params.methods, snakemake.input.predictions, strict=True))
predictions = {}
for method, path in paths.items():
    table = pd.read_csv(path, dtype={"message": str, "reason": str, "status": str})
    table["available"] = table["available"].astype(str).str.lower().isin(["true", "1"])
    table["reason"] = table["reason"].fillna("").astype(str)
    table["message"] = table["message"].fillna("").astype(str)
    predictions[method] = table
relative = relative_energies(dft, {m: t for m, t in predictions.items()
                                   if method_status(t)[0]})
relative.to_csv(snakemake.output.relative, index=False)
searched = read_conformers(snakemake.input.conformers)
reference = read_conformers(snakemake.input.reference)
meta = reference["metadata"]
methods = {}
for method in BENCHMARK_METHODS:
    if method not in predictions:
        methods[method] = method_entry(False, "not run")
        continue
    available, reason = method_status(predictions[method])
    rows = relative[relative["method"] == method]
    methods[method] = method_entry(available, reason, rows["relative_energy_kcal_mol"],
                                   rows["dft_relative_energy_kcal_mol"],
                                   n_molecules=int(rows["molecule_id"].nunique()),
                                   **(coverage(predictions[method]) if available else {}))
    if available:
        methods[method]["per_molecule_rmse_kcal_mol"] = {
            mid: error_stats(g["relative_energy_kcal_mol"],
                             g["dft_relative_energy_kcal_mol"])["rmse_kcal_mol"]
            for mid, g in rows.groupby("molecule_id")}
dft_rows = relative[relative["method"] == "dft"]
dft_method = snakemake.params.dft_method
write_metrics(
    snakemake.output.metrics, benchmark="conformers", methods=methods, sign_convention=None,
    run_name=snakemake.params.run_name, data_scale=snakemake.params.data_scale,
    dft_method=dft_method,
    reference=f"{dft_method} (Psi4); every method at the reference geometry: {meta['geometry']}",
    geometry=meta["geometry"],
    relative_energy="E(conformer) - E(lowest conformer of the same molecule), each method "
                    "against its own lowest conformer",
    source=meta["source"], split=meta["split"],
    n_seen_in_training=meta["n_seen_in_training"],
    engine=meta["engine"],
    n_molecules=meta["n_molecules"],
    n_conformers=meta["n_conformers"],
    n_searched_molecules=len(searched["molecules"]),
    n_searched_conformers=int(sum(len(m["conformers"]) for m in searched["molecules"])),
    n_dft_failed=meta["n_failed"], n_topology_changed=meta["n_topology_changed"],
    n_merged_after_dft=meta["n_merged_after_dft"], dropped=meta["dropped"],
    n_dft_ok=int((dft["status"] == "ok").sum()),
    dft_relative_energy_range_kcal_mol=[float(dft_rows["dft_relative_energy_kcal_mol"].min()),
                                        float(dft_rows["dft_relative_energy_kcal_mol"].max())]
    if len(dft_rows) else None,
    molecules=[{"molecule_id": m["molecule_id"], "name": m["name"], "smiles": m["smiles"],
                "canonical_key": m["canonical_key"], "source": m["source"],
                "split": m["split"], "n_conformers": len(m["conformers"]),
                "n_merged_after_dft": m["n_merged_after_dft"], "counts": m["counts"]}
               for m in reference["molecules"]],
)
for key, entry in methods.items():
    log.info("%s: available=%s n=%s RMSE=%s not covered=%s %s", key, entry["available"],
             entry["n"], entry["rmse_kcal_mol"], entry.get("n_molecules_not_covered"),
             entry.get("reason") or "")
