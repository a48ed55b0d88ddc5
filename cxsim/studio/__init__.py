"""cxsim studio: a what-if page in the browser (``cxsim-studio``, ``make studio``).

A strategist or a trainer sets a market, sets each firm's levers in
scenarios A and B (and an event in either), and sees the paired difference
B - A with its 95% interval narrow as pairs finish. The rooms: ``what_if``
(the page's state as cxsim overrides), ``runs`` (warm worker processes,
answers streamed), ``answer`` (the verdict, the differences and the charts,
rendered from a template), ``logs`` (an uploaded transaction or event log
fitted or discovered as the commands do, and kept by its content),
``uploads`` (the two upload panels), ``kept`` (the what-ifs a person kept, in one
SQLite file of the studio's folder), ``kept_panel`` (Keep, and the list that reopens
them), ``widgets`` (text shown as text, a lever's inputs), ``page`` (the Panel page) and
``server`` (``cxsim-studio``).
"""
