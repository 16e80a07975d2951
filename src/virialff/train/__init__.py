"""Training: dataset loading (:mod:`.data`), the resumable loop (:mod:`.loop`), the two stages
(:mod:`.stages`) and test-set evaluation (:mod:`.evaluate`)."""
