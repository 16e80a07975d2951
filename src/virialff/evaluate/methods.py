"""The method registry: every method the evaluation compares, once.

Each :class:`Method` says what it is (``key``, the display ``label`` and plot ``color``), what it
covers (``benchmarks``: the evaluation steps that run it) and how it predicts (``predicts``:
``model`` for a trained virialff model file, ``program`` for an external baseline of
:mod:`virialff.evaluate.baselines`, ``reference`` for the values compared against). Tables,
figures, the paper and the workflow's method lists read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: evaluation steps a method can cover.
BENCHMARKS: tuple[str, ...] = ("s66", "base_pairs", "conformers")


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    color: str  # Okabe–Ito, colour-blind safe
    predicts: str  # "model", "program" or "reference"
    benchmarks: tuple[str, ...] = ()


METHODS: tuple[Method, ...] = (
    Method("virialff", "this model", "#0072B2", "model", BENCHMARKS),
    Method("gfn2_xtb", "GFN2-xTB", "#E69F00", "program", BENCHMARKS),
    Method("ani1x", "ANI-1x", "#009E73", "program", BENCHMARKS),
    Method("mmff94", "MMFF94", "#CC79A7", "program", BENCHMARKS),
    # GAFF2 with AM1-BCC charges (AmberTools antechamber/parmchk2/tleap; energies through
    # OpenMM), and GB-FFs: parameters of the same Amber functional form predicted by a network
    # from the molecular graph (results/models/gbffs.pt).
    Method("gaff2", "GAFF2/AM1-BCC", "#56B4E9", "program", BENCHMARKS),
    Method("gbffs", "GB-FFs", "#F0E442", "model", BENCHMARKS),
    # GB-FFs with its charge-transfer and VdW heads fine-tuned on the SSI/BBI dimers
    # (results/models/gbffs_interactions.pt); scored only beside the other interaction-trained
    # model in results/metrics/interactions.json, hence no benchmarks of the main run. Its
    # colour: GB-FFs' yellow darkened (the eight Okabe–Ito colours are taken).
    Method("gbffs_interactions", "GB-FFs + interactions", "#9E8A00", "model"),
    Method("dft", "ωB97X-D/def2-SVP", "#D55E00", "reference"),
    Method("reference", "reference", "#000000", "reference"),
)
BY_KEY: dict[str, Method] = {m.key: m for m in METHODS}
#: the compared methods (this model first, then the baselines), in panel order.
BENCHMARK_METHODS: tuple[str, ...] = tuple(m.key for m in METHODS if m.benchmarks)
#: the baselines: external programs with the interface of virialff.evaluate.baselines.
BASELINES: tuple[str, ...] = tuple(m.key for m in METHODS if m.predicts == "program")
#: column order of Table 1: the paper's (this model, ANI, GFN2-xTB, MMFF94), then the Amber-form
#: force fields (GAFF2/AM1-BCC and GB-FFs).
TABLE01_METHODS: tuple[str, ...] = ("virialff", "ani1x", "gfn2_xtb", "mmff94", "gaff2", "gbffs")
#: the force fields of the Amber functional form, compared with this model in their own figure.
AMBER_FORM_METHODS: tuple[str, ...] = ("gaff2", "gbffs")
METHOD_LABELS: dict[str, str] = {m.key: m.label for m in METHODS}
METHOD_PALETTE: dict[str, str] = {m.key: m.color for m in METHODS}


def method_label(method: str) -> str:
    """Display label of a method key."""
    return BY_KEY[method].label
