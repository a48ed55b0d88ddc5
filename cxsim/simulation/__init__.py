"""The run: the engine and its kernel (needs, walks, visits, evaluation, acquisition, word of
mouth), its books and results; replications and paired comparisons.

Imports ``cxsim.model`` and the foundations; never ``cxsim.data`` or the commands.
"""
