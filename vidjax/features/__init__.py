"""Frozen features: extract once into a feature store (extract.py), look at them (tsne.py)."""
