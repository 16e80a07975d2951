"""Chemistry helpers: elements, RDKit molecules, molecular graphs."""
