"""cxsim: customer-journey simulation on a SimPy kernel.

The public contract: :func:`compose` a config, :func:`run` it, read the
DataFrames of the :class:`Results` (``timeseries``, ``clients``,
``touchpoints``, ``summary``).
"""

from collections.abc import Callable

from omegaconf import DictConfig

from cxsim.config import Config, compose
from cxsim.errors import ConfigError
from cxsim.simulation.experiment import Comparison, Ensemble, compare, replicate
from cxsim.simulation.results import Results
from cxsim.version import __version__

__all__ = ["ConfigError", "Results", "compose", "run", "replicate", "compare", "calibrate",
           "discover", "Ensemble", "Comparison", "__version__"]


def run(cfg: Config | DictConfig, replication: int = 0,
        progress: Callable[[float], None] | None = None) -> Results:
    """Run replication *replication* of *cfg* (0 by default) and return its Results.

    *progress*, if given, is called with the simulated day after each month.
    """
    from cxsim.simulation.engine import simulate

    return simulate(cfg, replication=replication, progress=progress)


def calibrate(log, calibration_end, **options):
    """Calibrate a market to a transaction log: :func:`cxsim.data.calibration.calibrate`."""
    from cxsim.data.calibration import calibrate as fit

    return fit(log, calibration_end, **options)


def discover(log, split, **options):
    """Discover a journey from an event log: :func:`cxsim.data.discovery.discover`."""
    from cxsim.data.discovery import discover as find

    return find(log, split, **options)
