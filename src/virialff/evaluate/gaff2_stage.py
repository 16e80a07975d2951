"""The ``gaff2`` stage: GAFF2/AM1-BCC parameters of every molecule of a geometry shard.

``results/geometries/{shard}.sdf`` → ``results/gaff2/{shard}.npz``
(:func:`virialff.formats.amber_parameters.write_amber_parameters`, one entry per SDF record
that could be parametrised, atoms in the SDF's order) and ``results/gaff2/{shard}.status.csv``
(stage ``gaff2``, one row per SDF record; a molecule antechamber cannot handle is a ``failed``
row with reason ``antechamber_failed`` and antechamber's message, and the shard goes on).

One parameter set per molecule. A shard may hold several geometries (records) of one molecule:
QMugs conformers, or the reference set's lowest conformer followed by its 500 K snapshots.
Their graph is the same (:func:`virialff.evaluate.baselines.amber_form.molecule_key`), and they
all get the parameters made from the molecule's *first* record in the shard: the subset lists
a molecule's geometries together, first the reference set's lowest conformer (before its
500 K snapshots) and QMugs' conformer of lowest ``CONF_ID``. GAFF2's atom types and bonded
terms depend on the graph only; AM1-BCC charges depend on the geometry (sqm's AM1
calculation), and a force field has one set of charges per molecule, not one per geometry: a
minimum is the geometry the molecule spends most time near, while an MD snapshot would carry
its distortion into the charges. Each later record's status row names the record its
parameters came from. (Geometries of one molecule split over two shards get one parameter set
per shard.)

The module sits in :mod:`virialff.evaluate` (layer 4) beside the GAFF2 benchmark method that
shares :func:`~virialff.evaluate.baselines.amber_form.molecule_key`; it imports nothing above
:mod:`virialff.forcefield`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from virialff.errors import MoleculeRejected
from virialff.evaluate.baselines.amber_form import molecule_key, one_line
from virialff.formats.amber_parameters import AmberFormParameters, write_amber_parameters
from virialff.formats.geometry_sdf import read_geometry_sdf
from virialff.formats.status_table import StatusTable

STAGE = "gaff2"


def parametrize_shard(sdf_path: str | Path, *, charge_method: str,
                      timeout_s: float | None = None, workdir: str | Path | None = None,
                      ) -> tuple[list[AmberFormParameters], StatusTable]:
    """GAFF2/AM1-BCC parameters of every record of a geometry shard (see the module docstring).

    Args:
        sdf_path: ``results/geometries/{shard}.sdf`` (or ``.sdf.gz``).
        charge_method: antechamber's ``-c`` (``gaff2.charge_method``: ``bcc`` = AM1-BCC).
        timeout_s: limit per AmberTools program run (``gaff2.timeout_s``; None: the default of
            :func:`virialff.forcefield.antechamber.gaff2_parameters`).
        workdir: where AmberTools' files go, one folder per molecule (default: temporary).

    Returns:
        ``(parameters of the records that succeeded, in file order; status table, one row per
        record)``.
    """
    from virialff.forcefield.antechamber import gaff2_parameters

    table = StatusTable(STAGE)
    done: list[AmberFormParameters] = []
    #: molecule key -> (parameters or the failure, the record they came from)
    first: dict = {}
    options = {"charge_method": charge_method,
               **({} if timeout_s is None else {"timeout_s": float(timeout_s)})}
    for record in read_geometry_sdf(sdf_path):
        start = time.perf_counter()
        molecule_id = record.molecule_id
        if record.error:
            table.failed(molecule_id, "bad_sdf", f"{molecule_id}: {record.error}")
            continue
        key = molecule_key(record.mol)
        if key in first:
            parameters, source = first[key]
            if isinstance(parameters, MoleculeRejected):
                table.failed(molecule_id, parameters.reason,
                             f"{molecule_id}: as {source} (same molecule): {parameters.detail}",
                             time.perf_counter() - start)
            else:
                done.append(replace(parameters, molecule_id=molecule_id, extra={}))
                table.ok(molecule_id, time.perf_counter() - start,
                         f"parameters of {source} (same molecule, its first geometry)")
            continue
        try:
            folder = None
            if workdir is not None:
                folder = Path(workdir) / molecule_id
                folder.mkdir(parents=True, exist_ok=True)
            parameters = gaff2_parameters(record.mol, molecule_id, workdir=folder, **options)
        except MoleculeRejected as error:
            flat = MoleculeRejected(molecule_id, error.reason, one_line(error.detail),
                                    stage=STAGE)
            first[key] = (flat, molecule_id)
            table.rejected(flat, time.perf_counter() - start)
            continue
        first[key] = (parameters, molecule_id)
        done.append(parameters)
        table.ok(molecule_id, time.perf_counter() - start)
    return done, table


def run_gaff2_shard(sdf_path: str | Path, npz_path: str | Path, status_path: str | Path, *,
                    charge_method: str, timeout_s: float | None = None,
                    log_path: str | Path | None = None) -> StatusTable:
    """:func:`parametrize_shard` and write the shard's parameters (``source``: e.g.
    ``"ambertools 26.0 gaff2 am1-bcc"``) and status table; both are written even when every
    molecule failed (an empty shard is a valid shard)."""
    from virialff.forcefield.antechamber import source_label

    parameters, table = parametrize_shard(sdf_path, charge_method=charge_method,
                                          timeout_s=timeout_s)
    write_amber_parameters(npz_path, parameters, source=source_label(charge_method))
    table.write(status_path)
    table.append_to_log(log_path, heading=f"gaff2 {Path(sdf_path).name}")
    return table
