"""Benchmarks of the trained model against reference data and baseline methods.

- :mod:`~virialff.evaluate.systems`: complexes (S66 dimers, DNA base pairs), bond perception.
- :mod:`~virialff.evaluate.baselines`: one module per method (this model, GFN2-xTB, ANI-1x,
  MMFF94), all with ``available() -> (bool, reason)`` and ``energies(mols) -> [M] kcal/mol``.
- :mod:`~virialff.evaluate.interactions`: interaction energies (E_int = ΣE_monomer − E_complex,
  positive = bound) in one prediction-table format for every method.
- :mod:`~virialff.evaluate.conformers`: relative conformer energies of molecules never trained on.
- :mod:`~virialff.evaluate.parameters`: predicted pair parameters (σ, ε) and charges.
- :mod:`~virialff.evaluate.metrics`: error statistics and the metrics files.
"""
