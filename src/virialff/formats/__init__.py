"""One module per file format that crosses a stage boundary.

Each module reads and writes its format, carries a ``FORMAT_VERSION`` and checks the format's
invariants in one place. Stages import formats; formats import nothing from stages.

- :mod:`~virialff.formats.molecules_csv`: the run's molecules (``results/dataset/molecules.csv``);
- :mod:`~virialff.formats.geometry_sdf`: geometry shards (``results/geometries/{shard}.sdf``);
- :mod:`~virialff.formats.descriptors_npz`: K·D descriptor shards
  (``results/descriptors/{shard}.npz``), with the one sum-rule tolerance;
- :mod:`~virialff.formats.dataset`: the training data set (``results/dataset/dataset.pt``);
- :mod:`~virialff.formats.status_table`: per-molecule status tables (``*.status.csv``);
- :mod:`~virialff.formats.model_file`: trained models (``results/models/*.pt``);
- :mod:`~virialff.formats.xyz`: XYZ files (single and multi-frame);
- :mod:`~virialff.formats.reference_cache`: the versioned cache of expensive results
  (``data/reference/``).
"""
