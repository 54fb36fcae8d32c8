"""Load benchmark of Thirdspace: a harness that starts the server as a user would and drives it over the
public contract (shared CONTRACT.md) from separate processes, beside a bare FastAPI baseline (bench.bare).

Run it with ``make bench`` or ``python -m bench --help``; results land in ``bench/results/``.
"""
