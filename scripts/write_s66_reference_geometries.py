"""Snakemake script: the bundled S66 dimers at their original geometries as a systems JSON
(rule s66_reference_geometries), so that every method can be evaluated where CCSD(T)/CBS was."""

from virialff.evaluate.runs import load_bundled_systems
from virialff.evaluate.systems import write_systems_json
from virialff.logs import setup_logging

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0], "virialff.evaluate")
systems = load_bundled_systems("s66", snakemake.params.data_dir)
write_systems_json(systems, snakemake.output.geometries, benchmark="s66",
                   optimizer="none: the CCSD(T)/CBS reference geometries of Rezac, Riley & "
                             "Hobza (2011), unchanged",
                   monomers="vertical (cut out of the dimer)")
log.info("s66: %d dimers at the reference geometries", len(systems))
