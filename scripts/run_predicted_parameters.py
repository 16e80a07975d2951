"""Snakemake entry point: predicted pair parameters (C0…C13, σ, ε) and atomic charges of the
validation molecules (rule ``predicted_parameters``), from the trained model and the GFN2-xTB
geometries of the workflow (parameters depend on the covalent graph only)."""

from virialff import load_model
from virialff.evaluate.parameters import parameter_tables
from virialff.formats.geometry_sdf import read_geometry_sdf
from virialff.formats.molecules_csv import read_molecules_csv
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
split = snakemake.params.parameters["split"]
wanted = [r["molecule_id"] for r in read_molecules_csv(snakemake.input.molecules)
          if r["split"] == split]
wanted = set(wanted[: snakemake.params.parameters["max_molecules"]])
mols, ids = [], []
for path in snakemake.input.geometries:
    for record in read_geometry_sdf(path):
        if record.molecule_id in wanted and not record.error:
            mols.append(record.mol)
            ids.append(record.molecule_id)
log.info("%d %s molecules (of %d requested) with geometries", len(mols), split, len(wanted))
predictor = load_model(snakemake.input.model, device=snakemake.resources.device)
predictions, kept_ids = [], []
for start in range(0, len(mols), 64):
    chunk, chunk_ids = mols[start:start + 64], ids[start:start + 64]
    try:
        predictions += predictor.predict_many(chunk)
        kept_ids += chunk_ids
    except Exception as error:  # one bad molecule must not lose the chunk
        log.warning("batch failed (%s); predicting one by one", error)
        for mol, molecule_id in zip(chunk, chunk_ids, strict=True):
            try:
                predictions.append(predictor.predict(mol))
                kept_ids.append(molecule_id)
            except Exception as single_error:
                log.warning("%s: %s", molecule_id, single_error)
pairs, charges = parameter_tables(predictions, kept_ids, [split] * len(kept_ids))
pairs.to_csv(snakemake.output.parameters, index=False)
charges.to_csv(snakemake.output.charges, index=False)
log.info("%d molecules, %d pairs (%d non-bonded), %d atoms", len(kept_ids), len(pairs),
         int((~pairs["bonded"]).sum()), len(charges))
