"""The client's and the firm's model: the equations, the clients' state, the journey maps,
the social network and the days a cohort joins.

Imports the foundations and the config (``cxsim.errors``, ``cxsim.fields``, ``cxsim.config``)
and itself only: never ``cxsim.simulation`` or ``cxsim.data``.
"""
