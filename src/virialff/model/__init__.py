"""Models: the pure potential (:mod:`.potential`), stage-1 MPNN (:mod:`.embedding`), stage-2
networks (:mod:`.potential_model`) and the prediction API (:mod:`.predictor`)."""
