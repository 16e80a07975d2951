"""Execute the paper notebook (``paper/paper.py``, jupytext percent format) and export it.

The same function serves the Snakemake rule ``paper`` (through ``scripts/build_paper.py``) and the
tests, which point it at a fixture results tree. Figures are displayed inline by the notebook, so
the exported HTML carries every image as base64: one self-contained file.
"""

from __future__ import annotations

import contextlib
import os
import re
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


#: $$display$$ and $inline$ TeX in Markdown (a "$" followed by a digit is a price, not math).
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s|\d)([^$\n]+?)(?<!\s)\$(?!\d)")
#: <script> elements that load from another host (MathJax, require.js in nbconvert's
#: template), and MathJax's inline configuration, which nothing reads once the math is MathML.
_REMOTE_SCRIPT = re.compile(
    r"<script[^>]*\bsrc=[\"'](?:https?:)?//[^>]*>\s*</script>"
    r"|<script type=\"text/x-mathjax-config\">.*?</script>", re.I | re.DOTALL)


def tex_to_mathml(markdown: str) -> str:
    """``markdown`` with every $…$ and $$…$$ formula rendered as MathML, which browsers draw
    without a script or a network (TeX that latex2mathml cannot parse is left as it is)."""
    from latex2mathml.converter import convert

    def render(match: re.Match, display: str) -> str:
        try:
            return convert(" ".join(match.group(1).split()), display=display)
        except Exception:  # noqa: BLE001 - unparsed TeX stays readable as TeX
            return match.group(0)

    out = _DISPLAY_MATH.sub(lambda m: "\n\n" + render(m, "block") + "\n\n", markdown)
    return _INLINE_MATH.sub(lambda m: render(m, "inline"), out)


def render_math(nb) -> None:  # noqa: ANN001 - nbformat NotebookNode
    """Render the TeX of every Markdown cell and Markdown output of ``nb`` to MathML."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = tex_to_mathml(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = tex_to_mathml(data["text/markdown"])


def export_html(nb, title: str = "virialff: the paper, rebuilt from this run") -> str:  # noqa: ANN001
    """Render the executed notebook as one HTML page without code cells or prompts, its math
    as MathML and no script loaded from another host, so it reads offline."""
    import copy

    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    render_math(nb)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return _REMOTE_SCRIPT.sub("", body)


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
