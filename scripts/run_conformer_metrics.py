"""Snakemake entry point: relative conformer energies of every method vs DFT and
``results/metrics/conformers.json`` (rule ``conformer_metrics``)."""

import pandas as pd

from virialff.data.logs import setup_logging
from virialff.evaluate.conformers import read_conformers, relative_energies
from virialff.evaluate.interactions import method_status
from virialff.evaluate.metrics import BENCHMARK_METHODS, error_stats, method_entry, write_metrics

log = setup_logging(snakemake.log[0], "virialff.evaluate")
dft = pd.read_csv(snakemake.input.dft)
paths = dict(zip(snakemake.params.methods, snakemake.input.predictions, strict=True))
predictions = {}
for method, path in paths.items():
    table = pd.read_csv(path)
    table["available"] = table["available"].astype(str).str.lower().isin(["true", "1"])
    table["reason"] = table["reason"].fillna("").astype(str)
    predictions[method] = table
relative = relative_energies(dft, {m: t for m, t in predictions.items()
                                   if method_status(t)[0]})
relative.to_csv(snakemake.output.relative, index=False)
payload = read_conformers(snakemake.input.conformers)
methods = {}
for method in BENCHMARK_METHODS:
    if method not in predictions:
        methods[method] = method_entry(False, "not run")
        continue
    available, reason = method_status(predictions[method])
    rows = relative[relative["method"] == method]
    methods[method] = method_entry(available, reason, rows["relative_energy_kcal_mol"],
                                   rows["dft_relative_energy_kcal_mol"])
    if available:
        methods[method]["per_molecule_rmse_kcal_mol"] = {
            mid: error_stats(g["relative_energy_kcal_mol"],
                             g["dft_relative_energy_kcal_mol"])["rmse_kcal_mol"]
            for mid, g in rows.groupby("molecule_id")}
dft_rows = relative[relative["method"] == "dft"]
write_metrics(
    snakemake.output.metrics, benchmark="conformers", methods=methods, sign_convention=None,
    run_name=snakemake.params.run_name, data_scale=snakemake.params.data_scale,
    dft_method=snakemake.params.dft_method,
    reference=f"{snakemake.params.dft_method} (Psi4) single points, geometry: "
              + str(dft["geometry"].iloc[0] if len(dft) else "none"),
    relative_energy="E(conformer) - E(lowest conformer of the same molecule), each method "
                    "against its own lowest conformer",
    engine=payload["metadata"]["engine"],
    n_molecules=len(payload["molecules"]),
    n_conformers=int(sum(len(m["conformers"]) for m in payload["molecules"])),
    n_dft_ok=int((dft["status"] == "ok").sum()),
    dft_relative_energy_range_kcal_mol=[float(dft_rows["dft_relative_energy_kcal_mol"].min()),
                                        float(dft_rows["dft_relative_energy_kcal_mol"].max())]
    if len(dft_rows) else None,
    molecules=[{"molecule_id": m["molecule_id"], "name": m["name"], "smiles": m["smiles"],
                "split": m["split"], "n_conformers": len(m["conformers"]),
                "counts": m["counts"]} for m in payload["molecules"]],
)
for key, entry in methods.items():
    log.info("%s: available=%s n=%s RMSE=%s %s", key, entry["available"], entry["n"],
             entry["rmse_kcal_mol"], entry.get("reason") or "")
