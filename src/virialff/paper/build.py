"""Execute the paper notebook (``paper/paper.py``, jupytext percent format) and export it.

The same function serves the Snakemake rule ``paper`` (through ``scripts/build_paper.py``) and the
tests, which point it at a fixture results tree. Figures are displayed inline by the notebook, so
the exported HTML carries every image as base64: one self-contained file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
RESULTS_ENV = "VIRIALFF_RESULTS"
ROOT_ENV = "VIRIALFF_ROOT"


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the kernel's lifetime, then restore them."""
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_notebook(
    notebook_py: Path | str,
    results: Path | str,
    root: Path | str = REPO_ROOT,
    timeout_s: int = 600,
):  # noqa: ANN201 - nbformat.NotebookNode
    """Read the jupytext notebook, run it with ``VIRIALFF_RESULTS=results`` and return it.

    The kernel starts in ``root`` (the repository root), so relative paths in the notebook
    resolve there; ``src/`` is put on the kernel's ``PYTHONPATH``.
    """
    import jupytext
    from nbclient import NotebookClient

    root = Path(root).resolve()
    nb = jupytext.read(str(notebook_py))
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }
    python_path = os.pathsep.join(
        [str(root / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    env = {
        RESULTS_ENV: str(Path(results).resolve()),
        ROOT_ENV: str(root),
        "PYTHONPATH": python_path,
        "MPLBACKEND": "Agg",
    }
    with _environment(env):
        client = NotebookClient(
            nb,
            timeout=timeout_s,
            kernel_name="python3",
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
    return nb


def export_html(nb, title: str = "virialff: the paper, rebuilt from this run") -> str:  # noqa: ANN001
    """Render the executed notebook as one HTML page without code cells or prompts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def build_paper(
    notebook_py: Path | str,
    ipynb_out: Path | str,
    html_out: Path | str,
    results: Path | str = "results",
    root: Path | str = REPO_ROOT,
    timeout_s: int = 600,
) -> Path:
    """Execute ``notebook_py`` against ``results`` and write ``ipynb_out`` and ``html_out``."""
    import nbformat

    nb = execute_notebook(notebook_py, results, root=root, timeout_s=timeout_s)
    ipynb_out, html_out = Path(ipynb_out), Path(html_out)
    ipynb_out.parent.mkdir(parents=True, exist_ok=True)
    html_out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(ipynb_out))
    html_out.write_text(export_html(nb), encoding="utf-8")
    return html_out


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m virialff.paper.build NOTEBOOK IPYNB HTML [RESULTS]``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (3, 4):
        print("usage: python -m virialff.paper.build NOTEBOOK.py OUT.ipynb OUT.html [RESULTS]")
        return 2
    build_paper(args[0], args[1], args[2], args[3] if len(args) == 4 else "results")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
