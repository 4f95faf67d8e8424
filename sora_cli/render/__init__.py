"""Render: backends draw each shot's frames; shots are encoded once into a cache."""
