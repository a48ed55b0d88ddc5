"""The one error type users see for bad input."""

__all__ = ["ConfigError"]

_UNSET = object()


class ConfigError(ValueError):
    """Bad configuration or journey input.

    The message names *where* the problem is (a config key, a file, a
    touchpoint), the *rule* it breaks and, when known, the value it *got*:
    ``market.size must be an integer >= 1; got -5``.
    """

    def __init__(self, where: str, rule: str, got: object = _UNSET) -> None:
        self.where = where
        self.rule = rule
        self.got = got
        message = f"{where} {rule}"
        if got is not _UNSET:
            message += f"; got {got!r}"
        super().__init__(message)

    def __reduce__(self):
        """Pickle by parts, so an error raised in a worker process reaches the caller whole."""
        parts = (self.where, self.rule) if self.got is _UNSET else (
            self.where, self.rule, self.got)
        return (type(self), parts)
