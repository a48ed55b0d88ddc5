"""Overrides checked before Hydra composes them, and Hydra's errors in cxsim's words.

Composing hides what an override said: a deleted setting runs on its default,
``2`` becomes ``true``, ``{}`` merges into nothing. So :func:`check_overrides`
reads the override strings themselves, against the schema, and
:func:`override_error` names the override a failed composition came from.
:func:`cxsim.config.compose` calls both; the ``cxsim`` command reports Hydra's
own errors with :func:`override_error` too.

A config group's option may be a file (``market=calibration/mine.yaml``, what
``cxsim-calibrate --out`` wrote anywhere): Hydra reads options only from its
search path, so :func:`preset_files` links each such file into a folder of this
process's own, under the group's name, and adds that folder to Hydra's search
path (``hydra.searchpath``).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from cxsim.errors import ConfigError
from cxsim.presets import config_dir, group_options
from cxsim.rules import check_flag
from cxsim.schema import Config, EventConfig, FirmConfig, MarketConfig, SegmentConfig

__all__ = ["check_overrides", "override_error", "preset_files"]

PRESET_SUFFIXES = (".yaml", ".yml")


def preset_files(overrides: list[str]) -> list[str]:
    """*overrides* with each config group option that names a YAML file (``market=
    ~/mine.yaml``, or several, comma-separated, for a sweep) replaced by the file's name,
    linked into a folder of this process's own (one per set of files), and that folder added
    to Hydra's search path.

    Raises
    ------
    ConfigError
        If the file does not exist, its name is a shipped option of the group (say which
        file is meant: rename it), or two files of one group named together share a name.
    """
    files: dict[tuple[str, str], Path] = {}  # (group, name) -> file
    out = []
    for override in overrides:
        key, sep, value = override.partition("=")
        group = key.lstrip("+~")
        options = group_options(group) if sep and not _is_hydra_key(group) else None
        items = value.split(",")
        if options is None or not any(_is_file(item) for item in items):
            out.append(override)
            continue
        names = []
        for item in items:
            if not _is_file(item):
                names.append(item)
                continue
            path = _preset_file(group, item.strip(), options, override)
            if path.parent == (config_dir() / group).resolve():
                names.append(path.stem)  # a shipped preset, named by its file
                continue
            first = files.setdefault((group, path.stem), path)
            if first != path:
                raise ConfigError(f"override '{override}'", f"names a second {group} preset "
                                  f"file called '{path.stem}' ({first} is the first): rename "
                                  "one")
            names.append(path.stem)
        out.append(f"{key}={','.join(names)}")
    if not files:
        return out
    if any(o.split("=", 1)[0].lstrip("+~") == "hydra.searchpath" for o in out):
        raise ConfigError("override 'hydra.searchpath'", "cannot be given with a preset named "
                          "by its file (cxsim sets the search path for it)")
    return [*out, f"hydra.searchpath=[file://{_linked_folder(files)}]"]


def _is_file(value: str) -> bool:
    return value.strip().endswith(PRESET_SUFFIXES)


def _preset_file(group: str, value: str, options: list[str], override: str) -> Path:
    """The resolved preset file *value* names; a missing file or a shipped name is an
    error."""
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"override '{override}'", f"names no {group} preset file "
                          f"(no file {value}; shipped {group} presets: {', '.join(options)})")
    if path.stem in options and path != (config_dir() / group / path.name).resolve():
        raise ConfigError(f"override '{override}'", f"names a file called like the shipped "
                          f"{group} preset '{path.stem}': rename the file")
    return path


@functools.cache
def _presets_root() -> Path:
    """This process's folder of linked presets, made once and removed at its exit."""
    folder = Path(tempfile.mkdtemp(prefix="cxsim-presets-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _linked_folder(files: dict) -> str:
    """A folder holding ``<group>/<name>.yaml`` linked to each file, the same for the same
    files (made once per process, removed at its exit)."""
    digest = hashlib.sha256(repr(sorted((g, n, str(p)) for (g, n), p in files.items()))
                            .encode()).hexdigest()[:16]
    folder = _presets_root() / digest
    for (group, name), path in files.items():
        target = folder / group / f"{name}.yaml"
        if not target.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return str(folder)


def check_overrides(overrides: list[str]) -> None:
    """Refuse an override that would delete a needed setting, read the environment,
    interpolate, empty a config group or a needed mapping, or give a flag a non-boolean."""
    for override in overrides:
        key, _, value = override.partition("=")
        if key.startswith("~") and _needed(key.lstrip("~")):
            raise ConfigError(f"override '{override}'", "deletes a setting cxsim needs (it "
                              "would run on its default); give it a value instead")
        if "oc.env" in value.replace(" ", ""):
            raise ConfigError(f"override '{key}=...'", "may not read an environment variable "
                              "(oc.env): its value would be written into the run's "
                              "config.yaml and meta.json")
        if _INTERPOLATION.search(value) and not _is_hydra_key(key.lstrip("+~")):
            raise ConfigError(f"override '{override}'", "may not interpolate (${...}): a "
                              "config is data, and its saved config.yaml must mean what it "
                              "says; write the value itself")
        options = group_options(key.lstrip("+~"))
        if options is not None and value.strip() in ("null", "~", ""):
            raise ConfigError(f"override '{override}'", "must name an option of its config "
                              f"group (available: {', '.join(options)})")
    _check_values(overrides)


_INTERPOLATION = re.compile(r"(?<!\\)\$\{")
"""The start of an OmegaConf interpolation or resolver, ``${``, not escaped as ``\\${``."""


def _is_hydra_key(key: str) -> bool:
    """Is *key* Hydra's own (``hydra.run.dir``, ``hydra/launcher``), not cxsim's?"""
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def _needed(key: str) -> bool:
    """Is *key* one of cxsim's own settings or config groups, which ``~key`` may not delete?

    Deleting one ran the run on its default, silently (``~seed`` ran seed 0). An entry of
    a mapping of names the user chose (a firm, a segment, an event, a touchpoint's staff
    or CX weight) may be deleted: :func:`to_config` starts those empty. An entry of a
    mapping with default entries (a segment's ``needs``) would come back: it is needed.
    Keys under ``hydra`` are Hydra's own.
    """
    if _is_hydra_key(key):
        return False
    if group_options(key) is not None:
        return True
    found = _declared(key)
    return found is not None and found[1]


def _declared(key: str) -> tuple[Any, bool] | None:
    """The type the schema declares for config key *key* (an entry of a mapping: the
    mapping's value type), and whether it is needed (a setting, or an entry the mapping's
    default has); None if *key* is not in the schema."""
    kind: Any = Config
    default: Any = None
    needed = False
    for part in key.split("."):
        if is_dataclass(kind):
            field = next((f for f in fields(kind) if f.name == part), None)
            if field is None:
                return None
            kind = get_type_hints(kind)[part]
            default = (field.default_factory() if callable(field.default_factory)
                       else field.default)
            if get_origin(kind) is not dict:  # a section that may be null
                kind = next((arg for arg in get_args(kind) if is_dataclass(arg)), kind)
            needed = True
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
            needed = not is_dataclass(kind) and isinstance(default, Mapping) and part in default
            default = None
        else:
            return None
    return kind, needed


_NOT_EMPTY = {
    (Config, "firms"): "must name at least one firm ({} changes nothing: the default firms "
                       "would run)",
    (MarketConfig, "segments"): "must name at least one segment ({} changes nothing: the "
                                "default segment would run)",
    (SegmentConfig, "needs"): "must weigh at least one need ({} changes nothing: the default "
                              "needs would run)",
    (FirmConfig, "offer"): "must give at least one offer attribute ({} would set every "
                           "attribute to 0, not the presets' offer)",
}
"""Mappings an override may not empty: merged into the config, ``{}`` changes nothing (or,
for an offer, hides the presets'). ``staff`` and ``cx_split`` are empty by default."""


def _check_values(overrides: list[str]) -> None:
    """What composing hides, checked on the overrides themselves: a boolean setting takes
    true or false only (OmegaConf turned 2, 'yes' or '1' into true before any check could
    see it: ``management.review=2`` ran with reviews), and a mapping of :data:`_NOT_EMPTY`
    may not be set to ``{}``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for line in overrides:
        try:
            parsed = parser.parse_overrides([line])[0]
        except Exception:  # a syntax error: composing names it
            continue
        if not parsed.is_sweep_override() and not parsed.is_delete():
            _check_value(parsed.key_or_group, parsed.value())


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, dict):
        parent, _, last = key.rpartition(".")
        owner = _declared(parent)[0] if parent and _declared(parent) else Config
        if not value and (owner, last) in _NOT_EMPTY:
            raise ConfigError(key, _NOT_EMPTY[owner, last], {})
        for name, item in value.items():
            _check_value(f"{key}.{name}", item)
        return
    found = _declared(key)
    kind = found[0] if found else None
    if kind is bool:
        check_flag(key, value)
    elif bool in get_args(kind) and value is not None and not isinstance(value, bool):
        raise ConfigError(key, "must be true, false or null", value)


def _unknown_field(key: str) -> bool:
    """Is *key* a setting no firm, segment or event has (``firms.acme.recovery``)?"""
    parts = key.split(".")
    for prefix, schema in ((["firms"], FirmConfig), (["market", "segments"], SegmentConfig),
                           (["events"], EventConfig)):
        n = len(prefix)
        if parts[:n] == prefix and len(parts) == n + 2:
            return parts[-1] not in {f.name for f in fields(schema)}
    return False


def override_error(exc: Exception, overrides: list[str]) -> ConfigError:
    from hydra.errors import MissingConfigException

    text = " ".join(str(exc).split())
    if isinstance(exc, MissingConfigException):
        group = getattr(exc, "config_name", None) or ""
        options = getattr(exc, "options", None)
        culprit = next((o for o in overrides if o.split("=")[0].lstrip("+~") in text
                        or (group and o.startswith(group.split("/")[0]))), None)
        where = f"override '{culprit}'" if culprit else "config group"
        rule = "names no config in its group"
        if options:
            rule += f" (available: {', '.join(sorted(options))})"
        return ConfigError(where, rule)
    from hydra.errors import OverrideParseException

    if isinstance(exc, OverrideParseException):
        return ConfigError(f"override '{exc.override}'",
                           f"is not valid override syntax ({exc.message.splitlines()[0]})")
    cause = exc.__cause__ or exc
    key = getattr(cause, "full_key", None)
    reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    culprit = next((o for o in overrides if key and o.split("=")[0].lstrip("+~") == key), None)
    culprit = culprit or max((o for o in overrides if o in text), key=len, default=None)
    culprit = culprit or next(
        (o for o in overrides if o.split("=")[0].lstrip("+~") in text), None)
    if key and "not in struct" in reason and _unknown_field(key):
        return ConfigError(f"config key '{key}'", "is not a known setting")
    if key and "not in struct" in reason:
        return ConfigError(f"config key '{key}'", "does not exist (to add a new entry to a "
                           f"mapping, write '+{key}=...')")
    if key and "not in '" in reason:
        return ConfigError(f"config key '{key}'", "is not a known setting")
    if key:
        return ConfigError(f"config key '{key}'", f"is invalid: {reason}")
    where = f"override '{culprit}'" if culprit else "overrides"
    return ConfigError(where, f"is invalid: {text}")
