"""The paper: published numbers, quoting numbers from result files, and the notebook build.

- :mod:`virialff.paper.numbers` reads metrics files, formats numbers and records where every
  quoted number came from (so a test can check each one against its file).
- :mod:`virialff.paper.published` reads ``data/published/terets2026.yaml``.
- :mod:`virialff.paper.build` executes ``paper/paper.py`` (jupytext) and writes the notebook and
  a self-contained HTML file.
"""

#: Figure number → file name under ``results/figures/`` (PNG; a PDF sits beside each), in the
#: paper's order. The notebook, the ``paper`` rule and the tests all read this one list.
FIGURE_FILES: dict[int, str] = {
    1: "fig01_elements.png",
    2: "fig02_atoms_per_molecule.png",
    3: "fig03_energy_per_atom.png",
    4: "fig04_architecture.png",
    5: "fig05_loss_curves.png",
    6: "fig06_kinetic_parity.png",
    7: "fig07_total_parity.png",
    8: "fig08_s66_dft_vs_reference.png",
    9: "fig09_s66_interaction_energies.png",
    10: "fig10_conformer_energies.png",
    11: "fig11_lj_parameters.png",
    12: "fig12_charges.png",
    13: "fig13_pair_potentials.png",
}
#: Figures beyond the paper: 14 and 15 a run builds only when their stage is switched on
#: (``learning_curve.enabled``, ``training.interactions.enabled``), 16 (GB-FFs and
#: GAFF2/AM1-BCC beside this model) always; the notebook shows each one whose file the run
#: produced.
OPTIONAL_FIGURE_FILES: dict[int, str] = {
    14: "fig14_learning_curve.png",
    15: "fig15_interaction_training.png",
    16: "fig16_force_fields.png",
}
