"""A firm's own data: its transaction log, the BG/NBD and Gamma-Gamma fits, and a market
calibrated to the log.

Imports the foundations, ``cxsim.model`` and ``cxsim.simulation`` (to check a fitted market
by running it); never the commands.
"""
