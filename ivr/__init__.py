"""ivr — an offline voice IVR simulator for rehearsing a call to the Госуслуги support hotline.

The flow content comes from a public how-to document and is *not* the real hotline: numbers and
hours must be checked on the official site. See README.md.
"""

import os

# One BLAS thread. The router's matrix products are small (1,900 × 384 at most), and from about
# that size OpenBLAS hands them to a pool of threads that spin while they wait: three Госуслуги
# convo files took 4.0 s of CPU for 2.7 s of wall time, against 2.8 s with one thread and no
# slower — CPU a spoken call needs for the recogniser. Set before numpy loads OpenBLAS; a value the
# user set wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
