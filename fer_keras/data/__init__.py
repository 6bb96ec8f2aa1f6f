"""Datasets: readers, splits, augmentation and the tf.data input pipeline."""
