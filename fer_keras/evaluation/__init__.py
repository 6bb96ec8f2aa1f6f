"""Evaluation: predictions tables, metrics, classical baselines and Grad-CAM explanations."""
