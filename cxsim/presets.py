"""Presets: the bundled ``configs/`` folder, its config groups, and the strategy,
funding, org and survey presets that fill a firm's unset levers.

Apart from composing (:mod:`cxsim.config`) because typing a saved or
hand-written config fills presets too, and pages list a group's options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cxsim.errors import ConfigError
from cxsim.rules import LEVERS, check_name
from cxsim.schema import Config

__all__ = ["config_dir", "group_options", "apply_presets"]


def config_dir() -> Path:
    """The bundled ``configs/`` folder: inside the wheel, or beside the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "configs", here.parent / "configs"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise ConfigError("configs/config.yaml", "was not found beside the cxsim package")



def group_options(group: str) -> list[str] | None:
    """Names of the shipped options of config group *group* (``market``, ``strategy``, a
    ``a/b`` subgroup), or None if *group* is not one."""
    folder = config_dir() / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else None


def _load_preset(firm_name: str, group: str, name: Any) -> dict[str, Any]:
    import yaml

    key = f"firms.{firm_name}.{group}"
    check_name(key, name)
    path = config_dir() / group / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(key, f"names no {group} preset (available: "
                          f"{', '.join(group_options(group))})", name)
    values = yaml.safe_load(path.read_text()) or {}
    allowed = LEVERS | ({"org"} if group == "strategy" else set())
    for lever in values:
        if lever not in allowed:
            raise ConfigError(f"preset file {group}/{name}.yaml", f"sets '{lever}', which is "
                              "not a firm lever")
    return values


def apply_presets(cfg: Config) -> None:
    """Fill every firm's unset levers from its strategy, funding, org and survey presets.

    A lever set on the firm wins over any preset; the org preset is the one
    the firm names, or else the one its strategy names.
    """
    for name, firm in cfg.firms.items():
        strategy = _load_preset(name, "strategy", firm.strategy)
        if firm.org is None:
            firm.org = strategy.pop("org", "no_cco")
        else:
            strategy.pop("org", None)
        values = {**strategy, **_load_preset(name, "funding", firm.funding),
                  **_load_preset(name, "org", firm.org),
                  **_load_preset(name, "survey", firm.survey)}
        for lever, value in values.items():
            if getattr(firm, lever) is None:
                setattr(firm, lever, dict(value) if isinstance(value, dict) else value)

