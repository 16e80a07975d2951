"""Snakemake entry point: interaction-energy table and metrics of S66 or the base pairs
(rules ``s66_metrics``, ``base_pairs_metrics``).

S66: every method against ωB97X-D/def2-SVP counterpoise-corrected DFT (the paper's Fig. 9;
top-level numbers) and, as ``vs_ccsdt_cbs``, against CCSD(T)/CBS (Řezáč, Riley & Hobza 2011) on
all 66; ``methods.dft``: DFT-CP against CCSD(T)/CBS (Fig. 8).
Base pairs: every method against the reference of data/references/mo2006_base_pairs.yaml.
"""

from pathlib import Path

import yaml

from virialff.evaluate.metrics import error_stats, method_entry, write_metrics
from virialff.evaluate.runs import combine_interactions, load_bundled_systems, methods_metrics
from virialff.evaluate.systems import read_systems_json
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
benchmark = snakemake.params.benchmark
bundled = load_bundled_systems(benchmark, snakemake.params.data_dir)
optimized = {s.system_id: s for s in read_systems_json(snakemake.input.geometries)}
paths = dict(zip(snakemake.params.methods, snakemake.input.predictions, strict=True))
common = {"run_name": snakemake.params.run_name, "data_scale": snakemake.params.data_scale}
if benchmark == "s66":
    combined = combine_interactions(bundled, paths, snakemake.input.dft,
                                    reference_column="ccsdt_cbs")
    combined.insert(4, "xtb_optimized", combined["system_id"].isin(optimized))
    methods = methods_metrics(combined, paths, "dft", ccsdt_cbs="ccsdt_cbs")
    dft_stats = error_stats(combined["dft"], combined["ccsdt_cbs"])
    methods["dft"] = {"available": True, "reason": None, **dft_stats,
                      "compared_with": "CCSD(T)/CBS at the original S66 geometries"}
    extra = {
        "reference": f"{snakemake.params.dft_method} counterpoise-corrected (Psi4) at "
                     "GFN2-xTB geometries",
        "dft_method": snakemake.params.dft_method,
        "secondary_reference": "CCSD(T)/CBS, Rezac, Riley & Hobza, JCTC 7, 2427 (2011)",
        "n_systems": len(bundled), "n_optimized": len(optimized),
        "n_dft": int(combined["dft"].notna().sum()),
        "dft_max_dimers": snakemake.params.dft_max_dimers,
    }
else:
    refs = yaml.safe_load(Path(snakemake.input.mo2006).read_text())
    for system in bundled:
        system.extra["jsch_kcal_mol"] = system.reference_kcal_mol
        system.reference_kcal_mol = float(refs["base_pairs"][system.system_id][
            "interaction_energy_kcal_mol"])
    combined = combine_interactions(bundled, paths, reference_column="reference")
    combined.insert(4, "jsch_ccsdt_cbs", [s.extra["jsch_kcal_mol"] for s in bundled])
    methods = methods_metrics(combined, paths, "reference")
    for method in methods:
        if method in combined:
            methods[method]["values_kcal_mol"] = dict(zip(combined["system_id"],
                                                          combined[method], strict=True))
    extra = {"reference": refs["citation"],
             "reference_values_kcal_mol": dict(zip(combined["system_id"], combined["reference"],
                                                   strict=True)),
             "geometries": "GFN2-xTB optimised complex and monomers (paper Eq. 25)"}
    if "virialff" not in methods:
        methods["virialff"] = method_entry(False, "not run")
combined.to_csv(snakemake.output.table, index=False)
payload = write_metrics(snakemake.output.metrics, benchmark=benchmark, methods=methods,
                        **common, **extra)
for key, entry in methods.items():
    log.info("%s: available=%s n=%s MAE=%s RMSE=%s %s", key, entry["available"], entry["n"],
             entry["mae_kcal_mol"], entry["rmse_kcal_mol"], entry.get("reason") or "")
