"""Deployment manifests (see render.py)."""
