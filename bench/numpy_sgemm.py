"""SGEMM n^3 in float32 with numpy's OpenBLAS pinned to one thread; prints the kernel.
Best of `reps` in thread CPU time (OpenBLAS runs on this thread when pinned to one), like
the Rust and wasm sides, so that other jobs on a shared machine do not count."""
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
    s = float("inf")
    for _ in range(reps):
        t = time.thread_time()
        a @ b
        s = min(s, time.thread_time() - t)
info = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads")) for i in threadpool_info()]
print(f"# numpy {np.__version__} blas {info}")
print(f"numpy_openblas {2 * n**3 / s / 1e9:.2f}")
