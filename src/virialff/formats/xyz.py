"""XYZ files: one or many frames of ``count / comment / symbol x y z`` lines (Å).

Used for xtb input and output (``coord.xyz``, ``xtbopt.xyz``, MD trajectories, CREST
ensembles), the bundled benchmark geometries and ``virialff predict`` input. Symbols are
written as given and read back capitalised (``CL`` → ``Cl``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1


@dataclass
class XyzFrame:
    """One structure: ``symbols`` [N], ``positions_angstrom`` [N, 3], the comment line and the
    1-based line number where the frame starts (for error messages)."""

    symbols: list[str]
    positions_angstrom: np.ndarray
    comment: str
    line: int


def format_xyz(symbols: Sequence[str], positions_angstrom: Any, comment: str = "") -> str:
    """One frame as text (10 decimals)."""
    positions = np.asarray(positions_angstrom, dtype=float)
    if positions.shape != (len(symbols), 3):
        raise ValueError(f"positions shape {positions.shape} does not match {len(symbols)} atoms")
    lines = [str(len(symbols)), comment.replace("\n", " ")]
    lines += [f"{s:<2s} {x:18.10f} {y:18.10f} {z:18.10f}"
              for s, (x, y, z) in zip(symbols, positions, strict=True)]
    return "\n".join(lines) + "\n"


def write_xyz(path: Path | str, symbols: Sequence[str], positions_angstrom: Any,
              comment: str = "") -> Path:
    """Write a single-frame XYZ file; ``positions_angstrom`` is [N, 3] Å."""
    path = Path(path)
    path.write_text(format_xyz(symbols, positions_angstrom, comment))
    return path


def parse_xyz(text: str, source: str = "<text>") -> list[XyzFrame]:
    """Every frame of XYZ ``text``; ``ValueError`` naming ``source`` and the line on bad input
    (non-numeric count or coordinate, truncated frame, non-finite coordinate)."""
    lines = text.splitlines()
    frames: list[XyzFrame] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        try:
            n_atoms = int(lines[index].split()[0])
        except ValueError:
            raise ValueError(f"{source}: line {index + 1} should hold an atom count, "
                             f"not {lines[index].strip()[:40]!r}") from None
        block = lines[index + 2:index + 2 + n_atoms]
        if len(block) != n_atoms:
            raise ValueError(f"{source}: the frame at line {index + 1} announces {n_atoms} "
                             f"atoms but {len(block)} follow")
        symbols, positions = [], []
        for offset, line in enumerate(block):
            parts = line.split()
            try:
                positions.append([float(v) for v in parts[1:4]])
                if len(parts) < 4:
                    raise ValueError
            except ValueError:
                raise ValueError(f"{source}: line {index + 3 + offset} is not "
                                 f"'symbol x y z': {line.strip()[:60]!r}") from None
            symbols.append(parts[0].capitalize())
        array = np.asarray(positions, dtype=float).reshape(-1, 3)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{source}: non-finite coordinate in the frame at line {index + 1}")
        comment = lines[index + 1] if index + 1 < len(lines) else ""
        frames.append(XyzFrame(symbols, array, comment.strip(), index + 1))
        index += 2 + n_atoms
    return frames


def read_xyz(path: Path | str) -> list[XyzFrame]:
    """Every frame of an XYZ file (see :func:`parse_xyz`); ``FileNotFoundError`` if absent."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"XYZ file {path} does not exist")
    return parse_xyz(path.read_text(), str(path))


def read_single_xyz(path: Path | str) -> XyzFrame:
    """The only frame of an XYZ file; ``ValueError`` when it holds none or several."""
    frames = read_xyz(path)
    if len(frames) != 1:
        raise ValueError(f"{path}: expected one structure, found {len(frames)}")
    return frames[0]
