"""Datasets: readers, face finding and cropping, image decoding, splits, balancing, augmentation and the tf.data input pipeline."""
