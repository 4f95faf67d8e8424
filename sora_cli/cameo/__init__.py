"""Cameos: a consenting person's likeness and voice, kept in a cameo library."""
