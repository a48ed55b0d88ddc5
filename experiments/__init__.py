"""Experiments built on cxsim: one folder each, sharing :mod:`experiments.common`."""
