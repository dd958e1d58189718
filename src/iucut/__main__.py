"""The ``iucut`` program (``python -m iucut`` and the ``iucut`` command's entry point)."""

import gc


def main() -> None:
    """Run the command line with the cyclic collector paused while its modules are
    imported (~0.2 s of start: the collections then walk what the imports made, to find
    no garbage, ~12 ms of a re-sync, issue #16 part 3); :func:`iucut.cli.main` freezes
    what they made and resumes it once the command is known."""
    gc.disable()
    from iucut.cli import main as run

    run()


if __name__ == "__main__":
    main()
