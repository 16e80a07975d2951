"""Speed and memory of one energy+forces call: virialff (parametrised once) vs MMFF94 and GFN2-xTB.

Systems (built once, deterministic, written to a temporary SDF so every method sees the same
geometry):

- ``molecule_50``: loratadine, C22H23ClN2O2, 50 atoms (RDKit ETKDG + MMFF94 geometry);
- ``cluster_1000``: 1,000 atoms, 21 drug-like molecules (loratadine, haloperidol, imipramine,
  metoprolol, tamoxifen ×4, one paracetamol), randomly oriented and packed without contacts
  closer than 2 Å in a sphere at 0.04 atoms/Å³;
- ``system_10000``: 10,000 atoms, the same mix ×40 plus 10 paracetamol, same density;
- ``box_1000``, ``box_10000``: the same 1,000- and 10,000-atom mixes packed the same way into
  periodic cubic cells, both at 0.032 atoms/Å³ (edges 31.5 and 67.9 Å: every edge ≥ 2·r_c,
  and at 0.04 atoms/Å³ a tamoxifen comes within r_c of its own image in the small cell). A
  finite cluster's atoms near its surface have fewer neighbours than inside, and the
  10,000-atom cluster has relatively less surface, so it holds ~15× the pairs of the
  1,000-atom one; the periodic cells have no surface and the same pairs per atom, which makes
  their time ratio the measure of linear growth (the ``system_10000_scaling`` target). The
  cluster ratio is reported beside it.

Methods, each in its own subprocess with one thread (OMP/OpenBLAS/MKL and torch):

- ``virialff``: :meth:`Predictor.parametrize` once (timed as the one-off cost), then
  :meth:`ParametrizedSystem.energy_and_forces` (NumPy float64, analytic forces, default
  cutoff); the first call, which builds the neighbour list, is reported separately;
- ``virialff_torch``: the same cached parameters through the torch functions of
  :mod:`virialff.model.potential` with autograd forces (50-atom molecule only; why NumPy);
- ``predict``: :meth:`Predictor.predict`, the networks on every call (no 10,000: O(A²) pairs);
- ``mmff``: RDKit MMFF94 ``CalcEnergy`` + ``CalcGrad``; setup (typing, force field) as the
  one-off cost; non-bonded threshold = the virialff cutoff; only up to ``--mmff-max-atoms``
  (at 10,000 atoms RDKit's MMFF94 setup had not finished after 19 min wall, 9 min CPU, at
  4.2 GB resident on the 2-core test machine);
- ``xtb``: the ``xtb`` program, ``--grad --gfn 2``, one process per call (start-up included,
  as a user calling xtb pays it); only up to ``--xtb-max-atoms``; above 100 atoms a single
  call is timed;
- ``gaff2_openmm``, ``gbffs_openmm``, ``gbffs_openmm_rb``: the GAFF2-form systems of the
  same molecule (:func:`virialff.forcefield.amber_openmm.to_openmm_system`, standard force
  types, no cutoff), with GAFF2/AM1-BCC parameters from AmberTools or GB-FFs parameters from
  ``--gbffs-model``; ``gbffs_openmm_rb`` writes each GB-FFs torsion (V1–V4) as one exact
  ``RBTorsionForce`` row instead of four ``PeriodicTorsionForce`` rows; setup (antechamber,
  or the networks) as the one-off cost, then
  ``setPositions`` + ``getState(energy, forces)`` on the CPU platform with one thread;
- ``openmm``: the exported system (:func:`virialff.forcefield.paper_openmm.to_openmm_system`)
  on OpenMM's CPU platform with one thread: ``setPositions`` + ``getState(energy, forces)``
  per call, and the time of one integrator step.

Memory: the peak resident set size (VmHWM, reset through ``/proc/self/clear_refs`` after the
one-off setup) during the timed calls, minus the resident size right after the imports and
the model load — i.e. the parametrised system, the neighbour list and all temporaries,
without the interpreter, torch and RDKit themselves. For xtb: the child process's peak RSS.

Model: ``--model FILE``, else ``results/models/total.pt`` if present, else an untrained model
of the paper's sizes (the evaluation cost does not depend on the weights; the
parametrisation and ``predict`` cost do depend on the network sizes).

    python benchmarks/potential_speed.py --output results/benchmarks/potential_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from virialff.forcefield.paper_system import DEFAULT_CUTOFF_ANGSTROM  # noqa: E402

ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OMP_STACKSIZE": "1G",
}
DRUGS = {
    "loratadine": "CCOC(=O)N1CCC(=C2c3ccc(Cl)cc3CCc3cccnc32)CC1",  # 50 atoms
    "haloperidol": "O=C(CCCN1CCC(O)(c2ccc(Cl)cc2)CC1)c1ccc(F)cc1",  # 49
    "imipramine": "CN(C)CCCN1c2ccccc2CCc2ccccc21",  # 45
    "metoprolol": "COCCc1ccc(OCC(O)CNC(C)C)cc1",  # 44
    "tamoxifen": "CCC(=C(c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1",  # 57
}
FILLER = ("paracetamol", "CC(=O)Nc1ccc(O)cc1")  # 20 atoms
SYSTEM_ATOMS = {
    "molecule_50": 50,
    "cluster_1000": 1000,
    "system_10000": 10000,
    "box_1000": 1000,
    "box_10000": 10000,
}
#: SDF property holding a periodic cell's edges (Å), "Lx Ly Lz".
BOX_PROPERTY = "virialff_box_angstrom"
PACKING_DENSITY_PER_ANGSTROM3 = 0.04
BOX_PACKING_DENSITY_PER_ANGSTROM3 = 0.032
MIN_CONTACT_ANGSTROM = 2.0
PAPER_SIZES = {
    "embedding": {
        "message_passing_steps": 4,
        "hidden_width": 350,
        "atom_head_layers": 3,
        "atom_head_width": 160,
        "edge_head_layers": 4,
        "edge_head_width": 199,
    },
    "potential": {
        "charge_net_layers": 3,
        "charge_net_width": 128,
        "feats_net_layers": 3,
        "feats_net_width": 256,
        "neutral_charges": False,
    },
}
#: (method, system) pairs to run; xtb is further limited by --xtb-max-atoms.
PLAN = [
    ("virialff", "molecule_50"),
    ("virialff_torch", "molecule_50"),
    ("predict", "molecule_50"),
    ("mmff", "molecule_50"),
    ("xtb", "molecule_50"),
    ("openmm", "molecule_50"),
    ("gaff2_openmm", "molecule_50"),
    ("gbffs_openmm", "molecule_50"),
    ("gbffs_openmm_rb", "molecule_50"),
    ("virialff", "cluster_1000"),
    ("predict", "cluster_1000"),
    ("mmff", "cluster_1000"),
    ("xtb", "cluster_1000"),
    ("openmm", "cluster_1000"),
    ("virialff", "system_10000"),
    ("mmff", "system_10000"),
    ("xtb", "system_10000"),
    ("virialff", "box_1000"),
    ("openmm", "box_1000"),
    ("virialff", "box_10000"),
]
TARGETS_TEXT = {
    "molecule_50_time": "50 atoms, cached parameters ≤ 1.8 ms per call",
    "molecule_50_vs_xtb": "50 atoms ≥ 100× faster than GFN2-xTB",
    "cluster_1000_time": "1,000 atoms ≤ 50 ms per call",
    "cluster_1000_memory": "1,000 atoms ≤ 300 MB",
    "system_10000_scaling": "10,000 atoms ≤ 12× the 1,000-atom time (periodic cells, same "
    "density)",
    "cluster_10000_scaling": "10,000-atom cluster ≤ 12× the 1,000-atom cluster (finite "
    "clusters: more pairs per atom in the larger one)",
    "system_10000_memory": "10,000 atoms ≤ 2 GB",
    "openmm_vs_mmff": "OpenMM (CPU) 50 atoms within 3× of MMFF94",
    "gbffs_vs_gaff2": "GB-FFs OpenMM system (CPU) 50 atoms within 1.2× of the GAFF2 system",
    "gbffs_rb_vs_gaff2": "the same with the GB-FFs torsions as RB rows (--torsions rb) within "
                         "1.2× of the GAFF2 system",
}


# -- systems ---------------------------------------------------------------------------------
def _conformer(smiles: str, seed: int):  # noqa: ANN202
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(mol, params) != 0:
        raise RuntimeError(f"RDKit could not embed {smiles}")
    AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
    return mol


def _composition(n_atoms: int) -> list[str]:
    cycle_atoms = 245  # the five drugs
    names = list(DRUGS) * (n_atoms // cycle_atoms)
    remainder = n_atoms - cycle_atoms * (n_atoms // cycle_atoms)
    if remainder % 20:
        raise ValueError(f"cannot make {n_atoms} atoms from the drug mix")
    return names + [FILLER[0]] * (remainder // 20)


def _packed(n_atoms: int, seed: int, region: str, density: float):  # noqa: ANN202 - rdkit Mol
    """The drug mix of ``n_atoms`` randomly oriented and placed, without two atoms of different
    molecules closer than :data:`MIN_CONTACT_ANGSTROM` (a voxel occupancy grid), in a sphere
    (``region="sphere"``) or a periodic cube (``"cube"``, the grid wrapping around) at
    ``density`` atoms/Å³. Returns ``(mol, cube edge or None)``; molecules stay whole."""
    from rdkit import Chem
    from rdkit.Geometry import Point3D
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    templates = {name: _conformer(smi, 1) for name, smi in {**DRUGS, FILLER[0]: FILLER[1]}.items()}
    periodic = region == "cube"
    if periodic:
        edge = (n_atoms / density) ** (1 / 3)
        n_voxels = int(np.ceil(edge))
        voxel, origin = edge / n_voxels, 0
    else:
        radius = (3 * n_atoms / (4 * np.pi * density)) ** (1 / 3)
        voxel, origin = 1.0, int(np.ceil(radius + 12)) + 2
        n_voxels = 2 * origin
    occupied = np.zeros((n_voxels,) * 3, dtype=bool)
    reach = int(np.ceil(MIN_CONTACT_ANGSTROM / voxel))
    offsets = np.array(
        [
            (i, j, k)
            for i in range(-reach, reach + 1)
            for j in range(-reach, reach + 1)
            for k in range(-reach, reach + 1)
            if (abs(i) + 0.5) ** 2 + (abs(j) + 0.5) ** 2 + (abs(k) + 0.5) ** 2
            <= (MIN_CONTACT_ANGSTROM / voxel + 1) ** 2
        ]
    )
    placed = []
    for name in sorted(_composition(n_atoms), key=lambda n: -templates[n].GetNumAtoms()):
        template = templates[name]
        x0 = template.GetConformer().GetPositions()
        x0 = x0 - x0.mean(axis=0)
        for _ in range(200_000):
            if periodic:
                centre = rng.uniform(0.0, edge, 3)
            else:
                centre = rng.uniform(-radius, radius, 3)
                if centre @ centre > radius**2:
                    continue
            x = Rotation.random(random_state=rng).apply(x0) + centre
            cells = np.floor(x / voxel).astype(int) + origin
            if periodic:
                cells %= n_voxels
            if not occupied[cells[:, 0], cells[:, 1], cells[:, 2]].any():
                marks = (cells[:, None, :] + offsets[None]).reshape(-1, 3)
                if periodic:
                    marks %= n_voxels
                occupied[marks[:, 0], marks[:, 1], marks[:, 2]] = True
                placed.append((template, x))
                break
        else:
            raise RuntimeError(f"could not place {name}; lower the packing density")
    joined = placed[0][0]
    for template, _ in placed[1:]:
        joined = Chem.CombineMols(joined, template)
    conformer = joined.GetConformer()
    for index, (x, y, z) in enumerate(np.vstack([x for _, x in placed])):
        conformer.SetAtomPosition(index, Point3D(float(x), float(y), float(z)))
    return joined, (edge if periodic else None)


def packed_cluster(n_atoms: int, seed: int = 0):  # noqa: ANN201 - rdkit Mol
    """Randomly oriented drug molecules packed into a sphere (see module docstring)."""
    mol, _ = _packed(n_atoms, seed, "sphere", PACKING_DENSITY_PER_ANGSTROM3)
    mol.SetProp("_Name", f"cluster_{n_atoms}")
    return mol


def packed_box(n_atoms: int, seed: int = 0):  # noqa: ANN201 - rdkit Mol
    """The drug mix of :func:`packed_cluster` in a periodic cube at
    :data:`BOX_PACKING_DENSITY_PER_ANGSTROM3`; each molecule is whole (it may stick out of the
    cell); the edges go to :data:`BOX_PROPERTY`."""
    mol, edge = _packed(n_atoms, seed, "cube", BOX_PACKING_DENSITY_PER_ANGSTROM3)
    mol.SetProp("_Name", f"box_{n_atoms}")
    mol.SetProp(BOX_PROPERTY, f"{edge!r} {edge!r} {edge!r}")
    return mol


def _box_of(mol) -> list[float] | None:  # noqa: ANN001 - rdkit Mol
    if not mol.HasProp(BOX_PROPERTY):
        return None
    return [float(v) for v in mol.GetProp(BOX_PROPERTY).split()]


def write_systems(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    from rdkit import Chem

    paths = {}
    for name, n_atoms in SYSTEM_ATOMS.items():
        if names and name not in names:
            continue
        if n_atoms == 50:
            mol = _conformer(DRUGS["loratadine"], 1)
            mol.SetProp("_Name", "loratadine")
        elif name.startswith("box_"):
            mol = packed_box(n_atoms)
        else:
            mol = packed_cluster(n_atoms)
        assert mol.GetNumAtoms() == n_atoms, (name, mol.GetNumAtoms())
        path = folder / f"{name}.sdf"
        writer = Chem.SDWriter(str(path))
        writer.write(mol)
        writer.close()
        paths[name] = path
    return paths


# -- worker: one method on one system, in a fresh process -------------------------------------
def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _load_predictor(model: str | None):  # noqa: ANN202
    from virialff.model.predictor import Predictor, load_model

    if model:
        return load_model(model, device="cpu"), model
    default = REPO / "results" / "models" / "total.pt"
    if default.exists():
        return load_model(default, device="cpu"), str(default)
    return Predictor.untrained("total", model_config=PAPER_SIZES), "untrained (paper sizes)"


def _time_calls(call, n_calls: int, max_seconds: float) -> list[float]:  # noqa: ANN001
    times = []
    start = time.perf_counter()
    while len(times) < n_calls and (time.perf_counter() - start < max_seconds or len(times) < 3):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return times


def _pin_to_current_core() -> None:
    """Keep the whole process on the core it started on (the scheduler's choice, usually the
    least busy): OpenMM's CPU platform hands its work to a pool thread even with Threads=1,
    and waking that thread on another, idle core of a VM doubled the time per call."""
    if not hasattr(os, "sched_setaffinity"):
        return
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    os.sched_setaffinity(0, {int(fields[36])})  # field 39 of proc(5): the current CPU


def worker(
    method: str, sdf: Path, n_calls: int, model: str | None, max_seconds: float, cutoff: float,
    gbffs_model: str | None = None,
) -> dict:
    import torch
    from rdkit import Chem

    torch.set_num_threads(1)
    _pin_to_current_core()
    (mol,) = Chem.SDMolSupplier(str(sdf), removeHs=False)
    x = mol.GetConformer().GetPositions()
    result: dict = {"method": method, "n_atoms": mol.GetNumAtoms()}
    predictor = None
    if method in ("virialff", "virialff_torch", "predict", "openmm"):
        predictor, result["model"] = _load_predictor(model)
    baseline = _rss_kib("VmRSS")
    setup_start = time.perf_counter()

    box = _box_of(mol)
    if box is not None:
        result["box_angstrom"] = box
    if method == "virialff":
        system = predictor.parametrize(mol, cutoff_angstrom=cutoff, box_angstrom=box)
        result["setup_s"] = time.perf_counter() - setup_start
        result["n_types"] = system.n_types
        result["n_intramolecular_pairs"] = int(system.intra_pair_index.shape[1])
        reset = _reset_peak_rss()
        t0 = time.perf_counter()
        system.energy_and_forces(x)
        result["first_call_s"] = time.perf_counter() - t0
        neighbours = system._neighbours  # noqa: SLF001 - reporting only
        result["n_listed_intermolecular_pairs"] = (
            int(neighbours.pair_index.shape[1]) if neighbours is not None else 0
        )

        def call() -> None:
            system.energy_and_forces(x)

    elif method == "virialff_torch":
        from virialff.model.potential import pair_energy_kcal_mol

        system = predictor.parametrize(mol)
        result["setup_s"] = time.perf_counter() - setup_start
        index = torch.as_tensor(system.intra_pair_index)
        bonded = torch.as_tensor(system.intra_pair_type > 0)
        charges = torch.as_tensor(system.charges_e)
        params = torch.as_tensor(system.intra_parameters)
        reset = _reset_peak_rss()

        def call() -> None:
            positions = torch.tensor(x, requires_grad=True)
            energy = pair_energy_kcal_mol(positions, index, bonded, charges, params).sum()
            (gradient,) = torch.autograd.grad(energy, positions)
            _ = (energy.item(), (-gradient).numpy())

    elif method == "predict":
        result["setup_s"] = 0.0
        reset = _reset_peak_rss()

        def call() -> None:
            predictor.predict(mol)

    elif method == "mmff":
        from rdkit.Chem import AllChem

        properties = AllChem.MMFFGetMoleculeProperties(mol)
        field = AllChem.MMFFGetMoleculeForceField(mol, properties, nonBondedThresh=cutoff)
        result["setup_s"] = time.perf_counter() - setup_start
        flat = x.reshape(-1).tolist()
        reset = _reset_peak_rss()

        def call() -> None:
            field.CalcEnergy(flat)
            field.CalcGrad(flat)

    elif method == "openmm":
        import openmm

        from virialff.forcefield.paper_openmm import NM_PER_ANGSTROM, to_openmm_system

        system = predictor.parametrize(mol, cutoff_angstrom=cutoff, box_angstrom=box)
        integrator = openmm.VerletIntegrator(0.0005)
        context = openmm.Context(
            to_openmm_system(system),
            integrator,
            openmm.Platform.getPlatformByName("CPU"),
            {"Threads": "1"},
        )
        result["setup_s"] = time.perf_counter() - setup_start
        positions_nm = x * NM_PER_ANGSTROM
        context.setPositions(positions_nm)
        context.getState(getEnergy=True, getForces=True)
        reset = _reset_peak_rss()

        def call() -> None:
            context.setPositions(positions_nm)
            state = context.getState(getEnergy=True, getForces=True)
            state.getForces(asNumpy=True)

        integrator.step(10)
        steps = _time_calls(lambda: integrator.step(1), 200, max_seconds / 4)
        result["step_median_s"] = statistics.median(steps)

    elif method == "xtb":
        import resource

        symbols = [a.GetSymbol() for a in mol.GetAtoms()]
        folder = Path(tempfile.mkdtemp(prefix="virialff-bench-xtb-"))
        xyz = folder / "coord.xyz"
        lines = [str(len(symbols)), "benchmark"]
        lines += [f"{s} {a:.8f} {b:.8f} {c:.8f}" for s, (a, b, c) in zip(symbols, x, strict=True)]
        xyz.write_text("\n".join(lines) + "\n")
        result["setup_s"] = 0.0
        reset = False
        env = {**os.environ, **ONE_THREAD}

        def unlimited_stack() -> None:  # xtb's advice (`ulimit -s unlimited`); else it crashes
            hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
            resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))

        def call() -> None:
            done = subprocess.run(
                ["xtb", "coord.xyz", "--grad", "--gfn", "2", "--chrg", "0"],
                cwd=folder,
                capture_output=True,
                text=True,
                env=env,
                check=False,
                preexec_fn=unlimited_stack,
            )
            if done.returncode != 0 or not (folder / "gradient").exists():
                raise RuntimeError(f"xtb failed: {done.stdout[-500:]}{done.stderr[-500:]}")
            (folder / "gradient").unlink()

    elif method in ("gaff2_openmm", "gbffs_openmm", "gbffs_openmm_rb"):
        import openmm

        from virialff.forcefield.amber_openmm import to_openmm_system
        from virialff.forcefield.paper_openmm import NM_PER_ANGSTROM

        if method == "gaff2_openmm":
            from virialff.forcefield.antechamber import gaff2_parameters

            parameters = gaff2_parameters(mol, "benchmark")
        else:
            from virialff.model.gbffs import GBFFsPredictor

            if not gbffs_model:
                raise ValueError(f"{method} needs --gbffs-model")
            parameters = GBFFsPredictor.load(gbffs_model).amber_parameters(mol, "benchmark")
            result["model"] = gbffs_model
        result["n_torsion_rows"] = int(parameters.torsion_index.shape[0])
        result["n_improper_rows"] = int(parameters.improper_index.shape[0])
        torsions = "rb" if method.endswith("_rb") else "periodic"
        system = to_openmm_system([parameters], torsions=torsions)
        result["torsion_form"] = torsions
        result["n_torsion_force_rows"] = sum(
            f.getNumTorsions() for f in system.getForces()
            if type(f).__name__ in ("PeriodicTorsionForce", "RBTorsionForce"))
        context = openmm.Context(system, openmm.VerletIntegrator(0.0005),
                                 openmm.Platform.getPlatformByName("CPU"), {"Threads": "1"})
        result["setup_s"] = time.perf_counter() - setup_start
        positions_nm = x * NM_PER_ANGSTROM
        reset = _reset_peak_rss()

        def call() -> None:
            context.setPositions(positions_nm)
            state = context.getState(getEnergy=True, getForces=True)
            state.getForces(asNumpy=True)

    else:
        raise ValueError(f"unknown method {method!r}")

    if method == "xtb" and result["n_atoms"] > 100:  # minutes per call: time one
        t0 = time.perf_counter()
        call()
        times = [time.perf_counter() - t0]
    else:
        call()  # warm-up (and the xtb check)
        times = _time_calls(call, n_calls, max_seconds)
    result["calls"] = len(times)
    result["median_s"] = statistics.median(times)
    result["min_s"] = min(times)
    if method == "xtb":
        result["memory_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result["memory_kind"] = "xtb process peak RSS"
    else:
        result["memory_mb"] = (_rss_kib("VmHWM") - baseline) / 1024
        result["memory_kind"] = "peak RSS during calls − RSS before setup"
        result["peak_rss_reset"] = reset
    return result


# -- parent: run the plan, print the table, check the targets ---------------------------------
def _run_worker(method: str, sdf: Path, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        method,
        "--system",
        str(sdf),
        "--calls",
        str(args.calls),
        "--max-seconds",
        str(args.max_seconds),
        "--cutoff",
        str(args.cutoff),
    ]
    if args.model:
        command += ["--model", args.model]
    if args.gbffs_model:
        command += ["--gbffs-model", args.gbffs_model]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **ONE_THREAD}, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        return {"method": method, "error": tail[0] if tail else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.3g}"


def _table(results: dict[str, dict[str, dict]]) -> str:
    rows = [
        "| system | method | one-off setup (s) | median per energy+forces call (ms) "
        "| memory (MB) | notes |",
        "|---|---|---|---|---|---|",
    ]
    for system, by_method in results.items():
        for method, r in by_method.items():
            if "error" in r or "skipped" in r:
                rows.append(
                    f"| {system} | {method} | — | — | — | {r.get('error') or r['skipped']} |"
                )
                continue
            notes = []
            if "first_call_s" in r:
                notes.append(f"first call (neighbour list) {_ms(r['first_call_s'])} ms")
            if r.get("n_types") is not None:
                notes.append(f"{r['n_types']} atom types")
            if r.get("n_listed_intermolecular_pairs"):
                notes.append(f"{r['n_listed_intermolecular_pairs']:,} listed intermolecular pairs")
            if "step_median_s" in r:
                notes.append(f"integrator step {_ms(r['step_median_s'])} ms")
            notes.append(f"{r['calls']} calls, fastest {_ms(r['min_s'])} ms")
            rows.append(
                f"| {system} | {method} | {r['setup_s']:.3g} | {_ms(r['median_s'])} "
                f"| {r['memory_mb']:.0f} | {'; '.join(notes)} |"
            )
    return "\n".join(rows)


def check_targets(results: dict[str, dict[str, dict]]) -> dict[str, dict]:
    def get(system: str, method: str, key: str = "median_s") -> float | None:
        return results.get(system, {}).get(method, {}).get(key)

    checks = {}

    def check(name: str, value: float | None, limit: float, text: str) -> None:
        checks[name] = {
            "target": TARGETS_TEXT[name],
            "value": value,
            "limit": limit,
            "measured": text if value is not None else "not measured",
            "pass": bool(value is not None and value <= limit),
        }

    t50, t1000 = get("molecule_50", "virialff"), get("cluster_1000", "virialff")
    xtb50, mmff50, omm50 = (
        get("molecule_50", "xtb"),
        get("molecule_50", "mmff"),
        get("molecule_50", "openmm"),
    )
    check("molecule_50_time", t50, 1.8e-3, f"{_ms(t50)} ms")
    ratio = t50 / xtb50 if t50 and xtb50 else None
    check("molecule_50_vs_xtb", ratio, 0.01, f"{1 / ratio:.0f}× faster" if ratio else "")
    check("cluster_1000_time", t1000, 50e-3, f"{_ms(t1000)} ms")
    m1000 = get("cluster_1000", "virialff", "memory_mb")
    check("cluster_1000_memory", m1000, 300.0, f"{m1000:.0f} MB" if m1000 is not None else "")
    for name, small, large in (
        ("system_10000_scaling", "box_1000", "box_10000"),
        ("cluster_10000_scaling", "cluster_1000", "system_10000"),
    ):
        t_small, t_large = get(small, "virialff"), get(large, "virialff")
        scaling = t_large / t_small if t_large and t_small else None
        pairs = [
            results.get(s, {}).get("virialff", {}).get("n_intramolecular_pairs", 0)
            + results.get(s, {}).get("virialff", {}).get("n_listed_intermolecular_pairs", 0)
            for s in (small, large)
        ]
        pair_ratio = pairs[1] / pairs[0] if all(pairs) else None
        check(
            name,
            scaling,
            12.0,
            f"{scaling:.1f}× (pairs evaluated: {pair_ratio:.1f}×)"
            if scaling and pair_ratio
            else "",
        )
    m10000 = get("system_10000", "virialff", "memory_mb")
    check("system_10000_memory", m10000, 2048.0, f"{m10000:.0f} MB" if m10000 is not None else "")
    omm_ratio = omm50 / mmff50 if omm50 and mmff50 else None
    check("openmm_vs_mmff", omm_ratio, 3.0, f"{omm_ratio:.1f}× MMFF94" if omm_ratio else "")
    gaff2 = get("molecule_50", "gaff2_openmm")
    for name, method in (("gbffs_vs_gaff2", "gbffs_openmm"),
                         ("gbffs_rb_vs_gaff2", "gbffs_openmm_rb")):
        gbffs = get("molecule_50", method)
        ff_ratio = gbffs / gaff2 if gaff2 and gbffs else None
        check(name, ff_ratio, 1.2,
              f"{ff_ratio:.2f}× GAFF2 ({_ms(gbffs)} vs {_ms(gaff2)} ms)" if ff_ratio else "")
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="stage-2 total model (see docstring)")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per method")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time limit per method")
    parser.add_argument("--xtb-max-atoms", type=int, default=1000, help="skip xtb above this")
    parser.add_argument("--mmff-max-atoms", type=int, default=2000, help="skip MMFF above this")
    parser.add_argument(
        "--cutoff",
        type=float,
        default=DEFAULT_CUTOFF_ANGSTROM,
        help="virialff intermolecular cutoff and MMFF non-bonded threshold, Å",
    )
    parser.add_argument("--gbffs-model", default=None,
                        help="GB-FFs model file (results/models/gbffs.pt) for gbffs_openmm")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="run only these methods of the plan (default: all)")
    parser.add_argument("--systems", nargs="+", default=None,
                        help="run only these systems of the plan (default: all)")
    parser.add_argument("--output", help="JSON file to write")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--system", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(
            json.dumps(
                worker(
                    args.worker,
                    Path(args.system),
                    args.calls,
                    args.model,
                    args.max_seconds,
                    args.cutoff,
                    args.gbffs_model,
                )
            )
        )
        return 0

    with tempfile.TemporaryDirectory(prefix="virialff-bench-") as tmp:
        t0 = time.perf_counter()
        paths = write_systems(Path(tmp), args.systems)
        print(f"built the systems in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        results: dict[str, dict[str, dict]] = {name: {} for name in SYSTEM_ATOMS}
        for method, system in PLAN:
            if (args.methods and method not in args.methods) or (
                    args.systems and system not in args.systems):
                continue
            limit = {"xtb": args.xtb_max_atoms, "mmff": args.mmff_max_atoms}.get(method)
            if limit is not None and SYSTEM_ATOMS[system] > limit:
                results[system][method] = {"skipped": f"not run (> --{method}-max-atoms {limit})"}
                continue
            print(f"{system}: {method} ...", file=sys.stderr, flush=True)
            results[system][method] = _run_worker(method, paths[system], args)
    for system, method in (("system_10000", "predict"), ("system_10000", "openmm")):
        results[system].setdefault(
            method,
            {"skipped": "not run (predict needs O(A²) memory)"}
            if method == "predict"
            else {"skipped": "not run"},
        )
    checks = check_targets(results)
    print(f"## Energy + forces per call, one CPU thread (cutoff {args.cutoff:g} Å)\n")
    print(_table(results))
    print("\n## Targets\n")
    print("| target | measured | pass |\n|---|---|---|")
    for check in checks.values():
        print(
            f"| {check['target']} | {check['measured']} | {'pass' if check['pass'] else 'FAIL'} |"
        )
    if args.output:
        payload = {
            "cutoff_angstrom": args.cutoff,
            "results": results,
            "targets": checks,
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor(),
                "python": platform.python_version(),
                "cpu_count": os.cpu_count(),
                "load_average": os.getloadavg(),
            },
        }
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
