"""What every cxsim command shares: bad input is one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["Parser", "fail", "warn"]


def fail(prog: str, message: str) -> NoReturn:
    """Print one line ``PROG: error: MESSAGE`` (whitespace folded) and exit with status 2."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)


def warn(prog: str, message: str) -> None:
    """Print one line ``PROG: warning: MESSAGE`` (whitespace folded) on stderr; the command
    goes on."""
    print(f"{prog}: warning: {' '.join(str(message).split())}", file=sys.stderr)
