"""Training: an experiment config run end to end, its one fit loop, TensorFlow runtime and ensembles."""
