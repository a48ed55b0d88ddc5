"""``python -m cxsim``: the same as the ``cxsim`` command."""

from cxsim.cli import main

if __name__ == "__main__":
    main()
