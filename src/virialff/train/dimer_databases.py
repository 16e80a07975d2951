"""Psi4 database modules read as text, and the dimer training data of the interaction stage.

Psi4 ships its benchmark sets as Python modules (Debian ``psi4-data``:
``/usr/share/psi4/databases/*.py``) that import ``qcdb`` at the top. They are never imported
here: :func:`read_database_module` parses the text. Two layers:

1. **Parser** (shared with ``scripts/extract_reference_sets.py``, which writes the bundled S66
   and base-pair files): geometries ``GEOS['%s-%s-dimer' % (dbse, ID)] = qcdb.Molecule(...)``
   as :class:`Fragment` lists (Å), literal table entries ``TABLE['%s-%s…' % (dbse, ID)] = …``
   (``BIND``, ``BIND_SILVER``, ``TAGL``, ...), the member list ``HRXN``, the default reference
   table (``BIND = BIND_SILVER``) and the listed nuclear repulsion energies.
2. **Training dimers** (:func:`build_training_dimers`): the neutral, closed-shell dimers of the
   BioFragment Database sets SSI (amino-acid side-chain pairs) and BBI (backbone pairs), with
   bonds perceived per monomer by RDKit ``rdDetermineBonds.DetermineBonds(mol, charge=0)``.
   Only SSI and BBI may be used (:func:`check_training_database`); S66 and the A–T/G–C base
   pairs are test sets, and any training dimer whose monomer pair (canonical keys) or geometry
   equals one of them is skipped. Every skipped entry is kept with its reason.

Sign convention: the modules store ``BIND = E_AB − E_A − E_B`` (negative = bound); everything
written here is ``interaction_energy_kcal_mol = E_A + E_B − E_AB`` (positive = bound).

References: BFDb, Burns et al., J. Chem. Phys. 147, 161727 (2017) (SSI, BBI);
S66, Řezáč, Riley & Hobza, J. Chem. Theory Comput. 7, 2427 (2011).
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.units import BOHR_TO_ANGSTROM

DEFAULT_DATABASES_DIR = Path("/usr/share/psi4/databases")
#: the only Psi4 databases that may enter training, validation or model selection.
TRAINING_DATABASES: tuple[str, ...] = ("SSI", "BBI")
#: per-atom target: 0 for the atoms of monomer A, 1 for monomer B.
MONOMER_KEY = "monomer_index"
#: per-dimer target: E_int = E_A + E_B − E_AB (kcal/mol, positive = bound).
INTERACTION_KEY = "interaction_energy_kcal_mol"
DIMERS_FORMAT = "virialff-dimers"
#: 2: ``molblocks``, each complex's RDKit molecule (bond orders, formal charges), for the
#: force fields that build valence terms (GB-FFs); version 1 files hold the graphs only.
DIMERS_VERSION = 2
#: the first version whose files carry ``molblocks``.
DIMERS_MOLBLOCK_VERSION = 2
#: two dimers are the same geometry when their sorted interatomic distances agree to this (Å).
SAME_GEOMETRY_TOLERANCE_ANGSTROM = 0.02
#: reasons a database entry is left out of the training dimers (counted in the summary).
SKIP_REASONS: tuple[str, ...] = (
    "not_a_dimer",
    "charged_monomer",
    "open_shell_monomer",
    "unsupported_element",
    "missing_reference",
    "bond_perception_failed",
    "monomer_fragmented",
    "rejected_by_featuriser",
    "test_set_pair",
    "test_set_geometry",
)

_GEOMETRY_RE = re.compile(
    r"GEOS\['%s-%s-dimer'\s*%\s*\(dbse,\s*'([^']+)'\s*\)\]\s*=\s*qcdb\.Molecule\(\"\"\"\n(.*?)\"\"\"\)",
    re.S,
)
_DBSE_RE = re.compile(r"^dbse\s*=\s*'([^']+)'", re.M)
_DEFAULT_TABLE_RE = re.compile(r"^BIND\s*=\s*(BIND_\w+)\s*$", re.M)


@dataclass
class Fragment:
    """One fragment of a ``qcdb.Molecule`` block: charge (e), multiplicity, atoms (Å)."""

    charge: int
    multiplicity: int
    symbols: list[str]
    xyz: list[tuple[float, float, float]]


def normalise_reaction_id(raw: str) -> str:
    """``' 1 '`` or ``'01'`` → ``'1'``; non-numeric ids (``'001ARG-005ASP-1'``) unchanged."""
    text = raw.strip().strip("'\"").strip()
    return str(int(text)) if text.isdigit() else text


def _parse_fragment_block(label: str, block: str) -> tuple[Fragment, str | None]:
    charge, multiplicity = 0, 1
    symbols: list[str] = []
    xyz: list[tuple[float, float, float]] = []
    units = None
    for line in (ln.strip() for ln in block.strip().splitlines()):
        if not line:
            continue
        parts = line.split()
        if parts[0].lower() == "units":
            units = parts[1].lower()
        elif len(parts) == 2:
            charge, multiplicity = int(parts[0]), int(parts[1])
        elif len(parts) == 4:
            symbols.append(parts[0].capitalize())
            xyz.append((float(parts[1]), float(parts[2]), float(parts[3])))
        else:
            raise ValueError(f"{label}: unparsed geometry line {line!r}")
    return Fragment(charge, multiplicity, symbols, xyz), units


def parse_geometries(text: str) -> dict[str, list[Fragment]]:
    """Reaction id → fragments (Å) of every literal ``GEOS[...-dimer]`` block of a module.

    ``units bohr`` blocks are converted to Å; other units raise ``ValueError``.
    """
    systems: dict[str, list[Fragment]] = {}
    for match in _GEOMETRY_RE.finditer(text):
        reaction = normalise_reaction_id(match.group(1))
        fragments, units = [], "angstrom"
        for block in match.group(2).split("--"):
            fragment, block_units = _parse_fragment_block(f"system {reaction}", block)
            units = block_units or units
            if fragment.symbols:
                fragments.append(fragment)
        if units in ("bohr", "au", "a.u."):
            for fragment in fragments:
                fragment.xyz = [tuple(c * BOHR_TO_ANGSTROM for c in p) for p in fragment.xyz]
        elif units not in ("angstrom", "ang"):
            raise ValueError(f"system {reaction}: units {units} not supported")
        systems[reaction] = fragments
    return systems


def parse_assignments(text: str, table: str) -> dict[str, str]:
    """Literal ``TABLE['%s-%s<suffix>' % (dbse, ID)] = value`` lines → {"ID<suffix>": value}.

    ``ID`` is normalised by :func:`normalise_reaction_id` (``'1'`` and ``1`` both give "1");
    the value is the raw text right of ``=``, stripped. Assignments inside loops (``% (dbse,
    rxn)``) are not literal and are not returned.
    """
    pattern = re.compile(
        rf"^{re.escape(table)}\['%s-%s(-[\w-]+)?'\s*%\s*\(dbse,\s*(?:'\s*([^']*?)\s*'|(\d+))\s*\)\]"
        r"\s*=\s*(.+)$",
        re.M,
    )
    out = {}
    for suffix, quoted, bare, value in pattern.findall(text):
        out[f"{normalise_reaction_id(quoted or bare)}{suffix or ''}"] = value.strip()
    return out


def parse_nuclear_repulsion(text: str, dbse: str) -> dict[str, float]:
    """Reaction id → ``DATA['NUCLEAR REPULSION ENERGY'][dbse-ID-dimer]`` (Hartree)."""
    pattern = re.compile(
        rf"^DATA\['NUCLEAR REPULSION ENERGY'\]\['{re.escape(dbse)}-([\w-]+?)-dimer'\s*\]"
        r"\s*=\s*([-\d.eE+]+)",
        re.M,
    )
    return {normalise_reaction_id(rxn): float(value) for rxn, value in pattern.findall(text)}


def parse_reaction_ids(text: str) -> list[str]:
    """The members ``HRXN`` of a module (a list literal or ``range(a, b)``), as reaction ids."""
    match = re.search(r"^HRXN\s*=", text, re.M)
    if match is None:
        raise ValueError("no HRXN member list in the module")
    lines = text[match.start() :].splitlines()
    for end in range(1, len(lines) + 1):
        try:
            tree = ast.parse("\n".join(lines[:end]))
            break
        except SyntaxError:
            continue
    else:
        raise ValueError("HRXN member list does not parse")
    value = tree.body[0].value
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "range":
        args = [ast.literal_eval(a) for a in value.args]
        return [str(i) for i in range(*args)]
    return [normalise_reaction_id(str(v)) for v in ast.literal_eval(value)]


def default_reference_table(text: str) -> str:
    """Name of the table that ``BIND`` is set to (``BIND = BIND_SILVER`` → ``BIND_SILVER``),
    or ``BIND`` where the module fills ``BIND`` itself."""
    matches = _DEFAULT_TABLE_RE.findall(text)
    return matches[-1] if matches else "BIND"


def reference_info(text: str, table: str) -> dict | None:
    """The ``BINDINFO_<level>`` dict a module assigns to every member in a loop, if any."""
    level = table.removeprefix("BIND")
    pattern = re.compile(rf"^\s*BINDINFO{re.escape(level)}\[[^\]]*\]\s*=\s*(\{{[^}}]*\}})", re.M)
    match = pattern.search(text)
    return ast.literal_eval(match.group(1)) if match else None


def strip_string(value: str) -> str:
    """A raw string value (``'…'``, ``\"\"\"…\"\"\"``) without its quotes and outer spaces."""
    return value.strip().strip('"').strip("'").strip()


def nuclear_repulsion_hartree(
    symbols: list[str], xyz_angstrom: list[tuple], bohr_to_angstrom: float = BOHR_TO_ANGSTROM
) -> float:
    """Σ_{i<j} Z_i Z_j / r_ij in Hartree for a geometry in Å."""
    from virialff.chem.elements import ATOMIC_NUMBERS

    charges = {**ATOMIC_NUMBERS, "He": 2}
    total = 0.0
    for i in range(len(symbols)):
        for j in range(i + 1, len(symbols)):
            pairs = zip(xyz_angstrom[i], xyz_angstrom[j], strict=True)
            r = sum((a - b) ** 2 for a, b in pairs) ** 0.5
            total += charges[symbols[i]] * charges[symbols[j]] / (r / bohr_to_angstrom)
    return total


@dataclass
class DatabaseModule:
    """A parsed Psi4 database module (see :func:`read_database_module`)."""

    name: str
    path: Path
    text: str = field(repr=False)
    sha256: str
    reaction_ids: list[str]
    geometries: dict[str, list[Fragment]]

    def table(self, name: str) -> dict[str, str]:
        """Raw literal entries of table ``name`` (see :func:`parse_assignments`)."""
        return parse_assignments(self.text, name)

    def references_kcal_mol(self, table: str) -> dict[str, float]:
        """Reaction id → value of reference table ``table`` (Psi4 sign: E_AB − E_A − E_B);
        a trailing ``# comment`` on the line is ignored."""
        out = {}
        for key, raw in self.table(table).items():
            try:
                out[key] = float(raw.split("#")[0])
            except ValueError:
                raise ValueError(f"{self.path}: {table}[{key!r}] = {raw!r} is not a number") \
                    from None
        return out

    @property
    def default_table(self) -> str:
        return default_reference_table(self.text)

    def nuclear_repulsion(self) -> dict[str, float]:
        return parse_nuclear_repulsion(self.text, self.name)


def read_database_module(path: str | Path) -> DatabaseModule:
    """Parse a Psi4 database module file (as text; ``qcdb`` is never imported)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Psi4 database module {path} does not exist")
    raw = path.read_bytes()
    text = raw.decode()
    match = _DBSE_RE.search(text)
    if match is None:
        raise ValueError(f"{path}: no `dbse = '...'` line; not a Psi4 database module")
    return DatabaseModule(
        name=match.group(1),
        path=path,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        reaction_ids=parse_reaction_ids(text),
        geometries=parse_geometries(text),
    )


# --------------------------------------------------------------------------------------------
# Training dimers (SSI, BBI)
# --------------------------------------------------------------------------------------------


def check_training_database(name: str) -> str:
    """``name`` if it may be used for training, else a one-line ``ValueError``."""
    if name not in TRAINING_DATABASES:
        raise ValueError(
            f"Psi4 database {name!r} may not be used for training: only "
            f"{', '.join(TRAINING_DATABASES)} (S66 and the JSCH base pairs are test sets; the "
            "other databases overlap them or are not checked against them)"
        )
    return name


@dataclass
class Dimer:
    """One training dimer: both monomers, their perceived topology and the reference E_int."""

    dimer_id: str  # e.g. "SSI-001ASN-026VAL-1"
    database: str
    reaction: str
    reference_table: str
    psi4_bind_kcal_mol: float  # E_AB − E_A − E_B as the module stores it
    interaction_energy_kcal_mol: float  # E_A + E_B − E_AB (positive = bound)
    monomer_keys: tuple[str, str]  # virialff.chem.identity.canonical_key of A and B
    mol: object = field(repr=False)  # RDKit Mol of the complex (A atoms first), one conformer
    fragment_sizes: tuple[int, int] = (0, 0)


@dataclass
class SkippedEntry:
    """A database entry left out, with the reason (one of :data:`SKIP_REASONS`)."""

    dimer_id: str
    database: str
    reason: str
    detail: str

    def as_dict(self) -> dict:
        return {"dimer_id": self.dimer_id, "database": self.database, "reason": self.reason,
                "detail": self.detail}


@dataclass
class HeldOutSystem:
    """A test-set complex that training must not contain (pair identity and geometry)."""

    system_id: str
    pair_key: tuple[str, str]  # sorted canonical keys of the two monomers
    fingerprint: tuple[str, np.ndarray] = field(repr=False)


def pair_key(key_a: str, key_b: str) -> tuple[str, str]:
    """Order-independent key of a monomer pair."""
    return tuple(sorted((key_a, key_b)))  # type: ignore[return-value]


def geometry_fingerprint(symbols: list[str], positions_angstrom) -> tuple[str, np.ndarray]:  # noqa: ANN001
    """``(formula, sorted interatomic distances [A(A−1)/2] in Å)``: invariant under rotation,
    translation and atom renumbering, so equal geometries give equal fingerprints."""
    positions = np.asarray(positions_angstrom, dtype=float).reshape(-1, 3)
    counts = Counter(symbols)
    formula = "".join(f"{s}{counts[s]}" for s in sorted(counts))
    first, second = np.triu_indices(len(symbols), k=1)
    distances = np.linalg.norm(positions[first] - positions[second], axis=1)
    return formula, np.sort(distances)


def same_geometry(
    a: tuple[str, np.ndarray],
    b: tuple[str, np.ndarray],
    tolerance_angstrom: float = SAME_GEOMETRY_TOLERANCE_ANGSTROM,
) -> bool:
    """Whether two :func:`geometry_fingerprint` values describe the same structure."""
    return a[0] == b[0] and a[1].shape == b[1].shape and bool(
        np.all(np.abs(a[1] - b[1]) <= tolerance_angstrom)
    )


def held_out_systems(benchmarks_dir: str | Path) -> list[HeldOutSystem]:
    """S66 and the base pairs bundled under ``benchmarks_dir`` (``data/benchmarks``)."""
    from virialff.chem.identity import canonical_key
    from virialff.evaluate.runs import load_bundled_systems
    from virialff.evaluate.systems import system_mols

    out = []
    for benchmark in ("s66", "base_pairs"):
        for system in load_bundled_systems(benchmark, benchmarks_dir):
            mols = system_mols(system)
            keys = [canonical_key(m) for m in mols.monomers]
            out.append(HeldOutSystem(system.system_id, pair_key(*keys),
                                  geometry_fingerprint(system.symbols, system.positions_angstrom)))
    return out


def _perceive_monomer(fragment: Fragment):  # noqa: ANN202 - rdkit Mol
    from virialff.chem.rdkit_mol import mol_from_positions as mol_from_xyz

    return mol_from_xyz(fragment.symbols, np.asarray(fragment.xyz), charge=0)


def dimer_from_entry(
    module: DatabaseModule,
    reaction: str,
    references: dict[str, float],
    table: str,
    held_out: list[HeldOutSystem],
) -> Dimer | SkippedEntry:
    """One database entry as a :class:`Dimer`, or a :class:`SkippedEntry` saying why not."""
    from rdkit import Chem

    from virialff.chem.identity import canonical_key
    from virialff.chem.rdkit_mol import combine_mols

    dimer_id = f"{module.name}-{reaction}"

    def skip(reason: str, detail: str) -> SkippedEntry:
        return SkippedEntry(dimer_id, module.name, reason, detail)

    fragments = module.geometries.get(reaction)
    if fragments is None or len(fragments) != 2:
        n = 0 if fragments is None else len(fragments)
        return skip("not_a_dimer", f"{n} fragment(s) in the geometry, expected 2")
    charges = [f.charge for f in fragments]
    if any(charges):
        return skip("charged_monomer", f"monomer charges {charges[0]:+d}, {charges[1]:+d}")
    if any(f.multiplicity != 1 for f in fragments):
        mults = ", ".join(str(f.multiplicity) for f in fragments)
        return skip("open_shell_monomer", f"monomer multiplicities {mults}")
    symbols = [s for f in fragments for s in f.symbols]
    bad = sorted(set(symbols) - set(SUPPORTED_ELEMENTS))
    if bad:
        return skip("unsupported_element", f"element(s) {', '.join(bad)}")
    if reaction not in references:
        return skip("missing_reference", f"no {table} value")
    monomers = []
    for label, fragment in zip("AB", fragments, strict=True):
        try:
            mol = _perceive_monomer(fragment)
        except ValueError as error:
            return skip("bond_perception_failed", f"monomer {label}: {error}")
        if len(Chem.GetMolFrags(mol)) != 1:
            return skip("monomer_fragmented",
                        f"monomer {label} is {len(Chem.GetMolFrags(mol))} covalent fragments")
        monomers.append(mol)
    keys = (canonical_key(monomers[0]), canonical_key(monomers[1]))
    key = pair_key(*keys)
    positions = np.array([p for f in fragments for p in f.xyz], dtype=float)
    fingerprint = geometry_fingerprint(symbols, positions)
    for system in held_out:
        if system.pair_key == key:
            return skip("test_set_pair",
                        f"same monomer pair as {system.system_id} ({' + '.join(key)})")
        if same_geometry(system.fingerprint, fingerprint):
            return skip("test_set_geometry", f"same geometry as {system.system_id}")
    bind = references[reaction]
    for index, mol in enumerate(monomers):
        mol.SetProp("_Name", f"{dimer_id}_{'AB'[index]}")
    complex_mol = combine_mols(monomers)
    complex_mol.SetProp("_Name", dimer_id)
    return Dimer(
        dimer_id=dimer_id,
        database=module.name,
        reaction=reaction,
        reference_table=table,
        psi4_bind_kcal_mol=bind,
        interaction_energy_kcal_mol=-bind,
        monomer_keys=keys,
        mol=complex_mol,
        fragment_sizes=(len(fragments[0].symbols), len(fragments[1].symbols)),
    )


def build_training_dimers(
    databases_dir: str | Path,
    names: tuple[str, ...] = TRAINING_DATABASES,
    tables: dict[str, str] | None = None,
    benchmarks_dir: str | Path | None = None,
    max_per_database: int | None = None,
) -> tuple[list[Dimer], list[SkippedEntry], dict[str, dict]]:
    """Training dimers of ``names`` (each must pass :func:`check_training_database`).

    Args:
        databases_dir: folder of the Psi4 database modules (``SSI.py``, ``BBI.py``).
        names: databases to read.
        tables: database → reference table (default: the module's default, ``BIND_SILVER``
            for both SSI and BBI).
        benchmarks_dir: ``data/benchmarks`` (S66 and base pairs to exclude); default: the
            package's bundled copy.
        max_per_database: read only the first N members of each database (tests, demos).

    Returns:
        ``(dimers, skipped, sources)``; ``sources[name]`` holds the module path, its SHA-256,
        the reference table and its ``BINDINFO`` where the module has one.
    """
    from virialff.evaluate.runs import BENCHMARKS_DIR

    for name in names:
        check_training_database(name)
    held_out = held_out_systems(benchmarks_dir or BENCHMARKS_DIR)
    dimers: list[Dimer] = []
    skipped: list[SkippedEntry] = []
    sources: dict[str, dict] = {}
    for name in names:
        module = read_database_module(Path(databases_dir) / f"{name}.py")
        if module.name != name:
            raise ValueError(f"{module.path}: module says dbse = {module.name!r}, not {name!r}")
        table = (tables or {}).get(name) or module.default_table
        references = module.references_kcal_mol(table)
        if not references:
            raise ValueError(f"{module.path}: reference table {table} has no entries")
        members = module.reaction_ids[:max_per_database] if max_per_database else \
            module.reaction_ids
        for reaction in members:
            outcome = dimer_from_entry(module, reaction, references, table, held_out)
            (dimers if isinstance(outcome, Dimer) else skipped).append(outcome)
        sources[name] = {
            "path": str(module.path),
            "sha256": module.sha256,
            "reference_table": table,
            "reference_table_is_module_default": table == module.default_table,
            "reference_info": reference_info(module.text, table),
            "n_members": len(members),
        }
    return dimers, skipped, sources


#: how the dimers are split into training and validation (``interactions.split_unit``).
SPLIT_UNITS: tuple[str, ...] = ("monomer", "pair")


def split_dimers(dimers: list[Dimer], val_fraction: float, seed: int,
                 unit: str = "monomer") -> dict[str, list[int]]:
    """Train/val indices into ``dimers``, with no chemistry shared where ``unit`` says.

    - ``"monomer"``: whole monomers are held out. Monomers (canonical keys) are visited in an
      order shuffled with ``numpy.random.default_rng(seed)``; a monomer joins the held-out set
      when the dimers containing any held-out monomer then stay within ``2·val_fraction`` of
      all dimers, until they reach ``val_fraction``. Those dimers are ``val``, all others
      ``train``: no held-out monomer occurs in training, so validation measures monomers the
      model has never seen (one partner of a validation dimer may be a training monomer).
    - ``"pair"``: all geometries of one monomer pair land in the same split (validation pairs
      are new pairs, made of monomers seen in training).

    Every dimer lands in exactly one split.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), not {val_fraction}")
    if unit not in SPLIT_UNITS:
        raise ValueError(f"split unit must be one of {SPLIT_UNITS}, not {unit!r}")
    rng = np.random.default_rng(seed)
    target = val_fraction * len(dimers)
    if unit == "pair":
        groups: dict[tuple[str, str], list[int]] = {}
        for index, dimer in enumerate(dimers):
            groups.setdefault(pair_key(*dimer.monomer_keys), []).append(index)
        order = sorted(groups)
        val: list[int] = []
        for position in rng.permutation(len(order)):
            if len(val) >= target or len(groups) < 2:
                break
            val.extend(groups[order[position]])
        val_set = set(val)
    else:
        containing: dict[str, set[int]] = {}
        for index, dimer in enumerate(dimers):
            for key in dimer.monomer_keys:
                containing.setdefault(key, set()).add(index)
        monomers = sorted(containing)
        val_set = set()
        for position in rng.permutation(len(monomers)):
            if len(val_set) >= target:
                break
            grown = val_set | containing[monomers[position]]
            if len(grown) <= 2.0 * target and len(grown) < len(dimers):
                val_set = grown
    train = [i for i in range(len(dimers)) if i not in val_set]
    return {"train": train, "val": sorted(val_set)}


def split_monomer_counts(dimers: list[Dimer], split: dict[str, list[int]]) -> dict[str, int]:
    """Distinct monomers in each split, and the validation monomers absent from training."""
    train = {k for i in split["train"] for k in dimers[i].monomer_keys}
    val = {k for i in split["val"] for k in dimers[i].monomer_keys}
    return {"n_monomers_train": len(train), "n_monomers_val": len(val),
            "n_monomers_val_unseen_in_train": len(val - train),
            "n_val_dimers_with_unseen_monomer": sum(
                any(k not in train for k in dimers[i].monomer_keys) for i in split["val"])}


def dimer_graphs(dimers: list[Dimer]):  # noqa: ANN201 - GraphBatch
    """Collate the dimers into one :class:`~virialff.chem.graph.GraphBatch` (float64).

    Molecule target ``interaction_energy_kcal_mol`` [M]; atom target ``monomer_index`` [A].
    Raises :class:`~virialff.errors.MoleculeRejected` for a dimer the featuriser refuses.
    """
    import torch

    from virialff.chem.graph import collate, graph_from_rdkit

    graphs = []
    for dimer in dimers:
        monomer = np.repeat([0, 1], dimer.fragment_sizes).astype(np.float64)
        graphs.append(graph_from_rdkit(
            dimer.mol, dimer.dimer_id,
            targets={INTERACTION_KEY: np.array([dimer.interaction_energy_kcal_mol]),
                     MONOMER_KEY: monomer}))
    return collate(graphs, dtype=torch.float64)


def summarise(
    dimers: list[Dimer], skipped: list[SkippedEntry], sources: dict[str, dict],
    split: dict[str, list[int]], val_fraction: float, seed: int, unit: str = "monomer",
) -> dict:
    """The data summary (``results/interactions/summary.json``)."""
    energies = np.array([d.interaction_energy_kcal_mol for d in dimers], dtype=float)
    per_database = {}
    for name, source in sources.items():
        kept = [d for d in dimers if d.database == name]
        left = [s for s in skipped if s.database == name]
        per_database[name] = {
            **source,
            "n_kept": len(kept),
            "n_skipped": len(left),
            "skipped_by_reason": dict(sorted(Counter(s.reason for s in left).items())),
            "n_train": sum(dimers[i].database == name for i in split["train"]),
            "n_val": sum(dimers[i].database == name for i in split["val"]),
        }
    groups = {pair_key(*d.monomer_keys) for d in dimers}
    return {
        "format": DIMERS_FORMAT,
        "version": DIMERS_VERSION,
        "sign_convention": "interaction_energy_kcal_mol = E_A + E_B - E_AB (positive = bound); "
                           "the Psi4 modules store BIND = E_AB - E_A - E_B",
        "bond_perception": "RDKit rdDetermineBonds.DetermineBonds(mol, charge=0) per monomer",
        "test_sets_excluded": "S66 and A-T/G-C base pairs (data/benchmarks): same monomer pair "
                              "(canonical keys) or same geometry",
        "split": {"unit": unit, "val_fraction": val_fraction, "seed": seed,
                  "n_train": len(split["train"]), "n_val": len(split["val"]),
                  "n_pair_groups": len(groups), **split_monomer_counts(dimers, split)},
        "n_entries": len(dimers) + len(skipped),
        "n_dimers": len(dimers),
        "n_skipped": len(skipped),
        "skipped_by_reason": dict(sorted(Counter(s.reason for s in skipped).items())),
        "interaction_energy_kcal_mol": {
            "min": float(energies.min()) if energies.size else None,
            "max": float(energies.max()) if energies.size else None,
            "mean": float(energies.mean()) if energies.size else None,
        },
        "databases": per_database,
        "skipped": [s.as_dict() for s in skipped],
    }


def prepare_dimers(
    databases_dir: str | Path,
    output_path: str | Path,
    summary_path: str | Path,
    names: tuple[str, ...] = TRAINING_DATABASES,
    tables: dict[str, str] | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    benchmarks_dir: str | Path | None = None,
    max_per_database: int | None = None,
    split_unit: str = "monomer",
) -> dict:
    """Build the training dimers and write ``dimers.pt`` and the summary JSON; return it.

    ``dimers.pt`` (``torch.save`` of a plain dict, ``weights_only`` loadable)::

        format: "virialff-dimers"; version: 2;
        graphs: GraphBatch state (complexes, monomer A atoms first; float64);
            molecule_targets["interaction_energy_kcal_mol"] [M], atom_targets["monomer_index"] [A]
        molblocks: [str] per complex, RDKit MolBlock (atoms in the graphs' order, bond orders,
            formal charges; coordinates to 1e-4 Å: take positions from the graphs);
        split: {"train": LongTensor, "val": LongTensor} (indices into graphs);
        dimers: [{"dimer_id", "database", "reaction", "reference_table", "psi4_bind_kcal_mol",
                  "monomer_keys": [a, b], "split"}];
        sources: {name: {"path", "sha256", "reference_table", ...}}
    """
    import json

    import torch
    from rdkit import Chem

    from virialff.errors import MoleculeRejected

    dimers, skipped, sources = build_training_dimers(
        databases_dir, names, tables, benchmarks_dir, max_per_database)
    kept = []
    for dimer in dimers:  # the featuriser's own checks (overlapping atoms, ...)
        try:
            dimer_graphs([dimer])
            kept.append(dimer)
        except MoleculeRejected as error:
            skipped.append(SkippedEntry(dimer.dimer_id, dimer.database, "rejected_by_featuriser",
                                        f"{error.reason}: {error.detail}"))
    dimers = kept
    if not dimers:
        raise ValueError(f"no usable training dimers in {', '.join(names)} under {databases_dir}")
    split = split_dimers(dimers, val_fraction, seed, split_unit)
    graphs = dimer_graphs(dimers)
    membership = {i: "train" for i in split["train"]} | {i: "val" for i in split["val"]}
    payload = {
        "format": DIMERS_FORMAT,
        "version": DIMERS_VERSION,
        "graphs": graphs.state_dict(),
        "split": {k: torch.as_tensor(v, dtype=torch.long) for k, v in split.items()},
        "molblocks": [Chem.MolToMolBlock(d.mol) for d in dimers],
        "dimers": [{"dimer_id": d.dimer_id, "database": d.database, "reaction": d.reaction,
                    "reference_table": d.reference_table,
                    "psi4_bind_kcal_mol": d.psi4_bind_kcal_mol,
                    "monomer_keys": list(d.monomer_keys), "split": membership[i]}
                   for i, d in enumerate(dimers)],
        "sources": sources,
    }
    output_path, summary_path = Path(output_path), Path(summary_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, output_path)
    summary = summarise(dimers, skipped, sources, split, val_fraction, seed, split_unit)
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    return summary
