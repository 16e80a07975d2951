"""Quantum-chemistry layer: xtb and Psi4 runners, K·D descriptors, per-molecule status tables.

Hartree and Bohr are used only inside this package; everything it hands on is named by unit.
"""
