"""Writes to the armory, one transaction each, every change journaled with it."""
