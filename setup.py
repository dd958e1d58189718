"""The compiled cutter core is optional: without a C compiler iucut installs and runs
on its pure-Python cutter (the reference implementation), only slower."""

from setuptools import Extension, setup

CORE = "src/iucut/cut/ccore/"

setup(
    ext_modules=[
        Extension(
            "iucut.cut._core",
            sources=[CORE + name for name in ("module.c", "scan.c", "build.c", "rx.c", "text.c")],
            depends=[CORE + name for name in ("core.h", "build.h", "rx.h", "text.h")],
            optional=True,
        )
    ]
)
