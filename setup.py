"""The compiled parts are optional: without a C compiler iucut installs and runs on its
pure-Python cutter (the reference implementation) and looks at files with os.lstat, only
slower."""

from setuptools import Extension, setup

CORE = "src/iucut/cut/ccore/"

setup(
    ext_modules=[
        Extension(
            "iucut.cut._core",
            sources=[CORE + name for name in ("module.c", "scan.c", "build.c", "rx.c", "text.c")],
            depends=[CORE + name for name in ("core.h", "build.h", "rx.h", "text.h")],
            optional=True,
        ),
        # the stat of a folder's files at once, for the cut cache's look-ups (digests.py)
        Extension("iucut._stat", sources=["src/iucut/statcore/stat.c"], optional=True),
    ]
)
