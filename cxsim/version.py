"""cxsim's version, in a module of its own so that any room can name it without importing
the package's top."""

__version__ = "0.1.0"  # keep equal to pyproject.toml's version
