"""Shared test configuration.

Figures are drawn with the non-interactive Agg backend, and worker threads are
capped so that the suite does not oversubscribe a small CI machine.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
