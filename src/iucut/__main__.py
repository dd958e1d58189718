"""``python -m iucut``: the same as the ``iucut`` command."""

from iucut.cli import main

if __name__ == "__main__":
    main()
