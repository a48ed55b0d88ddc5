"""Configuration: the scenario's schema as Hydra composes it, and typing it.

The home callers import a config from: :func:`compose` turns Hydra overrides
into a composed config, :func:`to_config` types it into the dataclasses of
:mod:`cxsim.schema` (re-exported here), fills presets (:mod:`cxsim.presets`)
and checks the rules (:mod:`cxsim.rules`). What composing hides is read on the
override strings first (:mod:`cxsim.overrides`). The files a config names
(journeys, a cohort) are loaded and checked once, by :mod:`cxsim.validate`,
before a run. Each field's meaning and bounds are declared beside its default
(:mod:`cxsim.fields`), so a page's tooltip is its declaration, never a copy.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any, get_args, get_origin, get_type_hints

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, ListConfig, OmegaConf

from cxsim.errors import ConfigError
from cxsim.fields import Bounds, bounds_of, describe, described, doc_of, within
from cxsim.labels import MAX_LABEL, firm_labels
from cxsim.overrides import check_overrides, override_error, preset_files
from cxsim.presets import apply_presets, config_dir, group_options
from cxsim.rules import validate
from cxsim.schema import (
    DAYS_PER_YEAR,
    DROPOUT_AFTER,
    INCENTIVES,
    MAX_CLIENTS,
    MAX_SEED,
    METRICS,
    NEEDS,
    PRESET_GROUPS,
    Config,
    DropoutConfig,
    EventConfig,
    ExperimentConfig,
    FirmConfig,
    ManagementConfig,
    MarketConfig,
    PsychologyConfig,
    PurchaseRateConfig,
    SegmentConfig,
    SimConfig,
    SpendConfig,
)

__all__ = [
    "SegmentConfig",
    "PurchaseRateConfig",
    "DropoutConfig",
    "SpendConfig",
    "DROPOUT_AFTER",
    "MarketConfig",
    "FirmConfig",
    "PsychologyConfig",
    "SimConfig",
    "ManagementConfig",
    "EventConfig",
    "ExperimentConfig",
    "Config",
    "DAYS_PER_YEAR",
    "NEEDS",
    "METRICS",
    "INCENTIVES",
    "PRESET_GROUPS",
    "register_configs",
    "to_config",
    "validate",
    "config_hash",
    "as_plain",
    "config_dir",
    "compose",
    "apply_presets",
    "group_options",
    "Bounds",
    "within",
    "described",
    "bounds_of",
    "doc_of",
    "describe",
    "MAX_CLIENTS",
    "MAX_LABEL",
    "MAX_SEED",
    "firm_labels",
]


@dataclass
class _OpenMarket(MarketConfig):
    segments: dict[str, Any] = described(default_factory=dict,
                                         doc=doc_of(MarketConfig, "segments"))


@dataclass
class _Schema(Config):
    """What Hydra composes: ``Config`` with open ``market.segments`` and ``firms``.

    Hydra's ``+`` cannot create an entry in a mapping of dataclasses, so a new
    segment or firm (``+firms.beta.journey=subscription``) is composed as a
    plain mapping and typed and checked by :func:`to_config`.
    """

    market: _OpenMarket = described(default_factory=_OpenMarket, doc=doc_of(Config, "market"))
    firms: dict[str, Any] = described(default_factory=dict, doc=doc_of(Config, "firms"))
    events: dict[str, Any] = described(default_factory=dict, doc=doc_of(Config, "events"))


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore as ``cxsim_schema``."""
    ConfigStore.instance().store(name="cxsim_schema", node=_Schema)


def _shape_error(node: Any, section: type, prefix: str = "") -> ConfigError | None:
    """The first key of *node* the dataclass *section* (or one inside it) lacks, or the first
    mapping setting given something else.

    Hydra's ``+`` adds any key, and merging into the schema then drops what it
    does not know: a mistyped lever (``+psychology.base_chrun=0.9``) would run
    the default. Open mappings (firms, segments, events) are checked entry by
    entry against their own dataclass.
    """
    hints = get_type_hints(section)
    for key in node:
        if not isinstance(key, str) or key not in hints:
            return ConfigError(f"config key '{prefix}{key}'", "is not a known setting")
        kind, value = hints[key], node[key]
        args = get_args(kind)
        optional = [arg for arg in args if is_dataclass(arg)]
        if get_origin(kind) is not dict and optional:  # a section that may be null
            kind, args = optional[0], ()
        mapping = is_dataclass(kind) or get_origin(kind) is dict or dict in map(get_origin, args)
        if mapping and value is not None and not isinstance(value, Mapping):
            return ConfigError(f"config key '{prefix}{key}'", "must be a mapping of names to "
                               "values", _plain(value))
        if is_dataclass(kind) and value is not None:
            error = _shape_error(value, kind, f"{prefix}{key}.")
        elif get_origin(kind) is dict and is_dataclass(args[1]):
            error = next((found for name in value if isinstance(value[name], Mapping) and (
                found := _shape_error(value[name], args[1], f"{prefix}{key}.{name}."))), None)
        else:
            error = None
        if error is not None:
            return error
    return None


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value) if isinstance(value, DictConfig | ListConfig) else value


def to_config(cfg: Config | DictConfig | dict) -> Config:
    """Turn a composed config into validated dataclasses."""
    if not isinstance(cfg, Config):
        error = _shape_error(cfg, Config) if isinstance(cfg, Mapping) else None
        if error is not None:
            raise error
        try:
            base = OmegaConf.structured(Config)
            base.firms, base.events, base.market.segments = {}, {}, {}  # mappings: no union
            merged = OmegaConf.merge(base, cfg)
            cfg = OmegaConf.to_object(merged)
        except Exception as exc:  # omegaconf raises several types
            reason = _omegaconf_reason(exc)
            raise ConfigError(_omegaconf_key(exc), f"is invalid: {reason}") from None
    apply_presets(cfg)
    validate(cfg)
    return cfg


def _omegaconf_key(exc: Exception) -> str:
    key = getattr(exc, "full_key", None)
    return f"config key '{key}'" if key else "config"


def _omegaconf_reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text


def config_hash(cfg: Config) -> str:
    """A short, stable hash of the resolved config (same config, same hash)."""
    text = json.dumps(as_plain(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_plain(cfg: Config) -> dict:
    """The config as plain dicts and scalars (for JSON and YAML)."""
    assert is_dataclass(cfg)
    return asdict(cfg)


_COMPOSING = threading.Lock()
"""Hydra keeps one global state: a page composing ahead in a thread must not meet another
compose half-way."""


def compose(overrides: list[str] | None = None) -> DictConfig:
    """Compose the bundled config with Hydra *overrides* (``["market.size=500"]``).

    Works from any working directory, when called repeatedly and from several threads at once.
    Bad overrides and unknown config groups raise :class:`ConfigError`.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if overrides is not None and (not isinstance(overrides, list | tuple) or not all(
            isinstance(o, str) for o in overrides)):
        raise ConfigError("overrides", "must be a list of override strings, e.g. "
                          "['market.size=500']", overrides)
    with _COMPOSING:
        overrides = preset_files(list(overrides or []))
        check_overrides(overrides)
        register_configs()
        try:
            if GlobalHydra.instance().is_initialized():
                return hydra_compose("config", overrides=overrides)
            with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
                return hydra_compose("config", overrides=overrides)
        except Exception as exc:  # Hydra and OmegaConf raise many types; name the override
            raise override_error(exc, overrides) from None
