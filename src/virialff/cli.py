"""Command-line interface: ``virialff predict --model M --input FILE [--charge 0] [--output F]``.

Reads an SDF (one or many records) or XYZ file (one or many frames; bonds perceived by RDKit
with the given total ``--charge``), predicts with a stage-2 model and writes CSV or JSON:

- CSV: one row per atom: ``molecule, atom, element, energy_kcal_mol, fx, fy, fz`` (forces in
  kcal/mol/Å) and ``charge_e``; the molecular energy is repeated on each row of a molecule.
- JSON: a list of molecules with ``name, energy_kcal_mol, elements, forces_kcal_mol_angstrom,
  charges_e, pair_index, pair_bonded, pair_parameters`` (C0..C13 per pair).

Without ``--output`` JSON goes to standard output. Errors print one line and exit with code 2.

``virialff export-openmm INPUT.sdf -o system.xml [--model M] [--cutoff 14] [--box LX LY LZ]``
parametrises the one molecule or complex of an SDF record and writes an OpenMM ``System`` XML
(:mod:`virialff.forcefield.paper_openmm`; ``--cutoff 0``: no intermolecular cutoff;
``--box``: a periodic orthorhombic cell, edges in Å, with PME Coulomb between molecules).
With ``--force-field gbffs --model gbffs.pt`` (GB-FFs) or ``--force-field gaff2`` (GAFF2/AM1-BCC
from AmberTools) the system is the GAFF2 functional form in OpenMM's standard forces
(:mod:`virialff.forcefield.amber_openmm`; PME in a cell).

``virialff export-amber INPUT.sdf -o PREFIX --force-field gbffs|gaff2 [--model M] [--box ...]``
writes ``PREFIX.prmtop`` and ``PREFIX.inpcrd``; ``virialff export-gromacs`` the same as
``PREFIX.top`` and ``PREFIX.gro`` (through ParmEd, :mod:`virialff.forcefield.amber_export`).
The paper's pair form has no Amber or GROMACS equivalent: those two take a GAFF2-form field.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

EXIT_USAGE_ERROR = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="virialff", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="energies, forces and charges of molecules")
    predict.add_argument(
        "--model", default=None,
        help="stage-2 model file (results/models/total.pt); default: the shipped reference "
             "model models/reference_total.pt",
    )
    predict.add_argument("--input", required=True, help="SDF or XYZ file")
    predict.add_argument(
        "--charge", type=int, default=0, help="total charge for XYZ bond perception"
    )
    predict.add_argument("--output", help="out.csv or out.json (default: JSON on stdout)")
    predict.add_argument("--device", default=None, help="cpu, cuda or auto (default)")
    export = commands.add_parser("export-openmm", help="write an OpenMM System XML of a molecule")
    export.add_argument("input", help="SDF file with one molecule or complex (explicit H)")
    export.add_argument("-o", "--output", required=True, help="system.xml to write")
    export.add_argument(
        "--model", default=None, help="stage-2 total-energy model file (default: as predict)"
    )
    export.add_argument(
        "--cutoff", type=float, default=None, help="intermolecular cutoff, Å (0: none)"
    )
    export.add_argument(
        "--box",
        type=float,
        nargs=3,
        metavar=("LX", "LY", "LZ"),
        default=None,
        help="periodic orthorhombic cell edges, Å (each ≥ 2 × cutoff; default: not periodic)",
    )
    export.add_argument("--force-field", choices=FORCE_FIELDS, default="virialff",
                        help="virialff (the paper's pair form, default), gbffs (GB-FFs model "
                             "file) or gaff2 (GAFF2/AM1-BCC from AmberTools)")
    export.add_argument("--torsions", choices=("periodic", "rb"), default="periodic",
                        help="gbffs/gaff2: proper torsions as PeriodicTorsionForce rows "
                             "(default, as prmtop) or one exact RBTorsionForce row per torsion "
                             "where every phase is 0 or 180° (GB-FFs: a quarter of the rows)")
    for name, files in (("export-amber", "PREFIX.prmtop and PREFIX.inpcrd"),
                        ("export-gromacs", "PREFIX.top and PREFIX.gro")):
        command = commands.add_parser(name, help=f"write {files} of a GAFF2-form force field")
        command.add_argument("input", help="SDF file with one molecule or complex (explicit H)")
        command.add_argument("-o", "--output", required=True, help=f"PREFIX of {files}")
        command.add_argument("--force-field", choices=FORCE_FIELDS[1:], required=True,
                             help="gbffs (with --model) or gaff2 (AmberTools)")
        command.add_argument("--model", default=None, help="GB-FFs model file (gbffs)")
        command.add_argument("--box", type=float, nargs=3, metavar=("LX", "LY", "LZ"),
                             default=None, help="periodic orthorhombic cell edges, Å")
    return parser


#: the force fields the export commands write.
FORCE_FIELDS: tuple[str, ...] = ("virialff", "gbffs", "gaff2")


def amber_form_parameters(input_path: str, force_field: str, model_path: str | None):  # noqa: ANN201
    """``(parameters per molecule, positions [A, 3] Å)`` of the one record of an SDF file with
    GB-FFs (``model_path``) or GAFF2/AM1-BCC parameters. The atoms of each molecule must be
    contiguous in the record (the exported files list them molecule by molecule)."""
    import numpy as np

    from virialff.model.predictor import read_sdf

    mols = read_sdf(input_path)
    if len(mols) != 1:
        raise ValueError(f"{input_path}: {len(mols)} records; the export takes one molecule or "
                         "complex (put the molecules of a complex in one record)")
    mol = mols[0]
    if force_field == "gbffs":
        if not model_path:
            raise ValueError("--force-field gbffs needs --model (a GB-FFs model file, "
                             "results/models/gbffs.pt)")
        from virialff.evaluate.baselines.gbffs import GBFFs

        method = GBFFs(model_path=model_path)
    else:
        from virialff.evaluate.baselines.gaff2 import GAFF2

        method = GAFF2()
    ok, reason = method.available()
    if not ok:
        raise ValueError(f"{force_field} is not available: {reason}")
    parameters, order = method.system_parameters(mol)
    if not np.array_equal(order, np.arange(mol.GetNumAtoms())):
        raise ValueError(f"{input_path}: the atoms of each molecule must be contiguous in the "
                         "record (the exported files list them molecule by molecule)")
    return parameters, np.asarray(mol.GetConformer().GetPositions(), dtype=float)


def _names(mols: list) -> list[str]:
    names = []
    for index, mol in enumerate(mols):
        name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
        names.append(name or f"molecule_{index}")
    return names


def predictions_to_records(names: list[str], predictions: list) -> list[dict]:
    """JSON-ready dicts, one per molecule."""
    return [
        {
            "name": name,
            "energy_kcal_mol": p.energy_kcal_mol,
            "elements": p.elements,
            "forces_kcal_mol_angstrom": p.forces_kcal_mol_angstrom.tolist(),
            "charges_e": p.charges_e.tolist(),
            "pair_index": p.pair_index.tolist(),
            "pair_bonded": p.pair_bonded.tolist(),
            "pair_parameters": p.pair_parameters.tolist(),
        }
        for name, p in zip(names, predictions, strict=True)
    ]


def write_csv(path: Path, names: list[str], predictions: list) -> None:
    """One row per atom (see module docstring)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "molecule",
                "atom",
                "element",
                "energy_kcal_mol",
                "fx_kcal_mol_angstrom",
                "fy_kcal_mol_angstrom",
                "fz_kcal_mol_angstrom",
                "charge_e",
            ]
        )
        for name, p in zip(names, predictions, strict=True):
            for atom, element in enumerate(p.elements):
                fx, fy, fz = p.forces_kcal_mol_angstrom[atom]
                writer.writerow(
                    [
                        name,
                        atom,
                        element,
                        f"{p.energy_kcal_mol:.6f}",
                        f"{fx:.6f}",
                        f"{fy:.6f}",
                        f"{fz:.6f}",
                        f"{p.charges_e[atom]:.6f}",
                    ]
                )


def predict_command(args: argparse.Namespace) -> None:
    from virialff.model.predictor import load_model, read_molecules

    output = Path(args.output) if args.output else None
    if output is not None and output.suffix.lower() not in (".csv", ".json"):
        raise ValueError(f"--output must end in .csv or .json, not {output.suffix!r}")
    predictor = load_model(args.model, device=args.device)
    model = predictor.metadata.get("path", args.model)
    print(f"virialff: using model {model} ({predictor.metadata.get('data_scale') or 'unknown'} "
          f"scale, {predictor.target} energy)", file=sys.stderr)
    mols = read_molecules(args.input, charge=args.charge)
    try:
        predictions = predictor.predict_many(mols)
    except ValueError as error:
        raise ValueError(f"{args.input}: {error}") from None
    names = _names(mols)
    if output is not None and output.suffix.lower() == ".csv":
        output.parent.mkdir(parents=True, exist_ok=True)
        write_csv(output, names, predictions)
        return
    text = json.dumps(
        {
            "model": str(model),
            "target": predictor.target,
            "units": {
                "energy": "kcal/mol",
                "forces": "kcal/mol/Å",
                "charges": "e",
                "distance": "Å",
            },
            "molecules": predictions_to_records(names, predictions),
        },
        indent=1,
    )
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n")


def export_openmm_xml(
    model_path: str | None,
    input_path: str,
    output_path: str,
    cutoff_angstrom: float | None = None,
    box_angstrom: list[float] | None = None,
):  # noqa: ANN201 - virialff.forcefield.paper_system.ParametrizedSystem
    """Parametrise the one molecule or complex of an SDF file and write its OpenMM System XML
    (:func:`virialff.forcefield.paper_openmm.write_openmm_xml`).

    ``model_path`` None: :func:`virialff.model.predictor.load_model`'s default model.
    ``cutoff_angstrom``: None for the default cutoff, 0 for none. ``box_angstrom``: edges [3]
    (Å) of a periodic orthorhombic cell, None for none. Returns the parametrised system.
    """
    from virialff.forcefield.paper_openmm import write_openmm_xml
    from virialff.forcefield.paper_system import DEFAULT_CUTOFF_ANGSTROM
    from virialff.model.predictor import load_model, read_sdf

    predictor = load_model(model_path, device="cpu")
    mols = read_sdf(input_path)
    if len(mols) != 1:
        raise ValueError(
            f"{input_path}: {len(mols)} records; export-openmm takes one molecule or complex "
            "(put the molecules of a complex in one record)"
        )
    if cutoff_angstrom is None:
        cutoff_angstrom = DEFAULT_CUTOFF_ANGSTROM
    system = predictor.parametrize(
        mols[0], cutoff_angstrom=cutoff_angstrom or None, box_angstrom=box_angstrom
    )
    write_openmm_xml(system, output_path)
    return system


def export_command(args: argparse.Namespace) -> None:
    """``export-openmm`` of a GAFF2-form field, ``export-amber`` and ``export-gromacs``."""
    parameters, positions = amber_form_parameters(args.input, args.force_field, args.model)
    output = Path(args.output)
    if args.command == "export-openmm":
        import openmm

        from virialff.forcefield.amber_openmm import to_openmm_system

        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(openmm.XmlSerializer.serialize(
            to_openmm_system(parameters, box_angstrom=args.box, torsions=args.torsions)))
    elif args.command == "export-amber":
        from virialff.forcefield.amber_export import export_amber

        export_amber(parameters, positions, output.with_suffix(".prmtop"),
                     output.with_suffix(".inpcrd"), box_angstrom=args.box)
    else:
        from virialff.forcefield.amber_export import export_gromacs

        export_gromacs(parameters, positions, output.with_suffix(".top"),
                       output.with_suffix(".gro"), box_angstrom=args.box)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``virialff`` console script; returns the exit code."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "predict":
            predict_command(args)
        elif args.command in ("export-amber", "export-gromacs") or (
                args.command == "export-openmm" and args.force_field != "virialff"):
            export_command(args)
        elif args.command == "export-openmm":
            export_openmm_xml(
                args.model,
                args.input,
                args.output,
                cutoff_angstrom=args.cutoff,
                box_angstrom=args.box,
            )
    except (ValueError, FileNotFoundError, OSError) as error:
        print(f"virialff: error: {error}", file=sys.stderr)
        return EXIT_USAGE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
