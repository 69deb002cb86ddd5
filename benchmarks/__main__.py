"""``.venv/bin/python -m benchmarks``: run every benchmark (see :mod:`benchmarks.run`)."""

from benchmarks.run import main

main()
