"""Errors that reject one molecule without stopping a run.

Every stage catches :class:`MoleculeRejected`, writes ``(molecule_id, stage, reason, message)``
to its status table and goes on with the next molecule. The reason is one of
:data:`REASONS`, so a summary can count failures by cause.
"""

from __future__ import annotations

REASONS: tuple[str, ...] = (
    "bad_smiles",
    "bad_sdf",
    "unsupported_element",
    "charged",
    "open_shell",
    "missing_hydrogens",
    "unsupported_bond",
    "embedding_failed",
    "xtb_failed",
    "topology_changed",
    "scf_not_converged",
    "psi4_failed",
    "bad_descriptors",
    "sum_rule",
    "nan_value",
    "overlapping_atoms",
    "missing_input",
    "duplicate",
    "outside_size_range",
    "bad_wavefunction",
    "pyscf_failed",
    "antechamber_failed",
    "missing_parameter",
    "parameter_mismatch",
)


class MoleculeRejected(ValueError):
    """One molecule cannot be processed; the message names the molecule and the reason."""

    def __init__(self, molecule_id: str, reason: str, detail: str, stage: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}; add it to REASONS")
        self.molecule_id = molecule_id
        self.reason = reason
        self.detail = detail
        self.stage = stage
        where = f" at stage {stage}" if stage else ""
        super().__init__(f"molecule {molecule_id}{where}: {reason}: {detail}")
