"""The console commands, as ``pyproject.toml`` names them: each imports its module when it runs.

A command that runs replications side by side starts worker processes with ``spawn``, and a
spawned process first re-imports the script that started it, so whatever the script imports
at its top every worker imports too: Panel for the studio, matplotlib and the report for the
demo, a second or so each before a worker can run. Here the script imports this module only.
"""

from __future__ import annotations


def cxsim() -> int | None:
    from cxsim.cli import main

    return main()


def compare() -> int | None:
    from cxsim.compare_cli import main

    return main()


def collect() -> int | None:
    from cxsim.collect import main

    return main()


def report() -> int | None:
    from cxsim.report.cli import main

    return main()


def demo() -> int | None:
    from cxsim.demo import main

    return main()


def studio() -> int | None:
    from cxsim.studio.server import main

    return main()


def calibrate() -> int | None:
    from cxsim.calibrate_cli import main

    return main()


def discover() -> int | None:
    from cxsim.discover_cli import main

    return main()
