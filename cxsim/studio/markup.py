"""The studio's HTML: every piece it draws is a template in ``templates/``, rendered with
autoescaping, so a name from a log, a lever or a user is shown as text, never as markup."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = ["render"]

_ENVIRONMENT = Environment(loader=PackageLoader("cxsim.studio", "templates"),
                           autoescape=select_autoescape(default=True, default_for_string=True),
                           trim_blocks=True, lstrip_blocks=True)


def render(template: str, **values: object) -> str:
    """*template* (a file in ``cxsim/studio/templates``) filled with *values*, escaped."""
    return _ENVIRONMENT.get_template(template).render(**values)
