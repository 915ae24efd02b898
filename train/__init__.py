"""Training recipes: the corpus builder (``train.data``), teachers, stage 1 and stage 2."""
