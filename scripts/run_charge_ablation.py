"""Snakemake entry point: the charge ablation (rule charge_ablation, Table 2).

The total-energy model with free molecular charges (the paper) and with every covalent
fragment made neutral (training.potential.neutral_charges), trained on the same data: S66
against DFT-CP and CCSD(T)/CBS, the base pairs against the reference, and the molecular
validation and test MAE, by which the better setting is chosen (never by a benchmark).
"""

import json
from pathlib import Path

import pandas as pd
import yaml

from virialff.evaluate.interactions import read_prediction_table
from virialff.evaluate.metrics import error_stats
from virialff.evaluate.runs import load_bundled_systems
from virialff.logs import setup_logging
from virialff.train.evaluate import error_metrics, predict_dataset

log = setup_logging(snakemake.log[0], "virialff.evaluate")
p = snakemake.params
keys = ["virialff", *p.variants]
models = dict(zip(keys, snakemake.input.models, strict=True))
setting = {False: "free charges", True: "neutral charges"}
# "virialff" is the model of the configured setting, the variant the one of the other setting
labels = {key: setting[p.neutral_charges != (key != "virialff")] for key in keys}
data_dir = Path(snakemake.input.s66_reference).parents[1]
s66 = {s.system_id: s.reference_kcal_mol for s in load_bundled_systems("s66", data_dir)}
dft = read_prediction_table(snakemake.input.s66_dft).set_index("system_id")[
    "interaction_energy_kcal_mol"]
refs = yaml.safe_load(Path(snakemake.input.base_pairs_reference).read_text())["base_pairs"]
rows, entries = [], {}
for key in keys:
    s66_pred = read_prediction_table(
        next(x for x in snakemake.input.predictions if f"/s66/predictions/{key}.csv" in x)
    ).set_index("system_id")["interaction_energy_kcal_mol"]
    bp_pred = read_prediction_table(
        next(x for x in snakemake.input.predictions if f"/base_pairs/predictions/{key}.csv" in x)
    ).set_index("system_id")["interaction_energy_kcal_mol"]
    ids = sorted(s66)
    vs_dft = error_stats(s66_pred.reindex(ids), dft.reindex(ids))
    vs_cc = error_stats(s66_pred.reindex(ids), pd.Series(s66).reindex(ids))
    pairs = {pair: float(bp_pred.get(pair, float("nan"))) for pair in ("A-T", "G-C")}
    bp = error_stats(pd.Series(pairs), pd.Series(
        {pair: float(refs[pair]["interaction_energy_kcal_mol"]) for pair in pairs}))
    molecular = {}
    for split in ("val", "test"):
        table, _ = predict_dataset(models[key], snakemake.input.dataset, split,
                                   snakemake.resources.device)
        molecular[split] = error_metrics(table["error_kcal_mol"].to_numpy())
    entries[key] = {"charges": labels[key], "model": models[key], "s66_vs_dft_cp": vs_dft,
                    "s66_vs_ccsdt_cbs": vs_cc, "base_pairs_kcal_mol": pairs,
                    "base_pairs_vs_reference": bp, "molecular": molecular}
    rows.append({"charges": labels[key], "val_mae_kcal_mol": molecular["val"]["mae_kcal_mol"],
                 "test_mae_kcal_mol": molecular["test"]["mae_kcal_mol"],
                 "s66_rmse_vs_dft_cp": vs_dft["rmse_kcal_mol"], "s66_n_dft": vs_dft["n"],
                 "s66_rmse_vs_ccsdt_cbs": vs_cc["rmse_kcal_mol"],
                 "a_t_kcal_mol": pairs["A-T"], "g_c_kcal_mol": pairs["G-C"]})
best = min(entries, key=lambda k: entries[k]["molecular"]["val"]["mae_kcal_mol"])
payload = {"run_name": p.run_name, "data_scale": p.data_scale, "models": entries,
           "chosen_on_validation": entries[best]["charges"],
           "selection_rule": "lower validation MAE of the molecular total energy; S66 and the "
                             "base pairs are test sets and never choose"}
Path(snakemake.output.metrics).write_text(json.dumps(payload, indent=1) + "\n")
table = pd.DataFrame(rows)
table.to_csv(snakemake.output.csv, index=False, float_format="%.3f")
header = ("| charges | val MAE | test MAE | S66 RMSE vs DFT-CP (N) | S66 RMSE vs CCSD(T)/CBS "
          "| A–T | G–C |\n|---|---:|---:|---:|---:|---:|---:|\n")
lines = [f"| {r['charges']} | {r['val_mae_kcal_mol']:.2f} | {r['test_mae_kcal_mol']:.2f} | "
         f"{r['s66_rmse_vs_dft_cp']:.2f} ({r['s66_n_dft']}) | {r['s66_rmse_vs_ccsdt_cbs']:.2f} | "
         f"{r['a_t_kcal_mol']:.2f} | {r['g_c_kcal_mol']:.2f} |" for r in rows]
Path(snakemake.output.md).write_text(header + "\n".join(lines) + "\n")
log.info("charge ablation: %s; better on validation: %s", rows, entries[best]["charges"])
