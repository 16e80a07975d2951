"""Molecules in, dataset out: demo CSV and QMugs readers, filters, subset, split, assembly.

- :mod:`virialff.data.demo`: the bundled demo CSV (``name, smiles, chembl_id``).
- :mod:`virialff.data.qmugs`: the published QMugs tree (``structures/CHEMBL*/conf_XX.sdf``,
  ``summary.csv``) and its SDF tags.
- :mod:`virialff.data.subset`: checks, filters, reproducible subset and shards →
  ``results/dataset/molecules.csv``.
- :mod:`virialff.data.split`: train/val/test split by molecule.
- :mod:`virialff.data.assemble`: geometries + descriptors → ``results/dataset/dataset.pt``.
- :mod:`virialff.data.summary`: what passed and what failed where, for the whole run.
"""
