"""Datasets: readers, image decoding, splits, augmentation and the tf.data input pipeline."""
