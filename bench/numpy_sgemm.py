"""SGEMM n^3 in float32 with numpy's OpenBLAS pinned to one thread; prints the kernel."""
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

n = int(sys.argv[1]) if len(sys.argv) > 1 else 512
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
rng = np.random.default_rng(0)
a = rng.random((n, n), dtype=np.float32)
b = rng.random((n, n), dtype=np.float32)
with threadpool_limits(limits=1):
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    s = (time.perf_counter() - t) / reps
info = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads")) for i in threadpool_info()]
print(f"# numpy {np.__version__} blas {info}")
print(f"numpy_openblas {2 * n**3 / s / 1e9:.2f}")
