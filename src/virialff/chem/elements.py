"""The elements virialff supports and their one-hot encoding (paper section 3)."""

from __future__ import annotations

#: Elements of the paper, in the fixed order used for one-hot features and element counts.
SUPPORTED_ELEMENTS: tuple[str, ...] = ("H", "C", "N", "O", "F", "S", "Cl", "Br", "P")
ELEMENT_INDEX: dict[str, int] = {symbol: i for i, symbol in enumerate(SUPPORTED_ELEMENTS)}
ATOMIC_NUMBERS: dict[str, int] = {
    "H": 1, "C": 6, "N": 7, "O": 8, "F": 9, "P": 15, "S": 16, "Cl": 17, "Br": 35,
}
SYMBOL_BY_ATOMIC_NUMBER: dict[int, str] = {z: s for s, z in ATOMIC_NUMBERS.items()}


class UnsupportedElementError(ValueError):
    """A molecule contains an element outside :data:`SUPPORTED_ELEMENTS`."""


def element_index(symbol: str) -> int:
    """Position of ``symbol`` in :data:`SUPPORTED_ELEMENTS`; raises for other elements."""
    try:
        return ELEMENT_INDEX[symbol]
    except KeyError:
        raise UnsupportedElementError(
            f"unsupported element {symbol!r} (supported: {', '.join(SUPPORTED_ELEMENTS)})"
        ) from None
