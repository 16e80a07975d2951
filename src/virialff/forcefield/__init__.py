"""Force fields with fixed parameters, evaluated without torch: the paper's pair form
(a :class:`ParametrizedSystem` made by a trained model) and the Amber/GAFF2 form (GAFF2 from
AmberTools, or GB-FFs parameters from a trained model), with their OpenMM, ASE, Amber and
GROMACS engines and exports."""
