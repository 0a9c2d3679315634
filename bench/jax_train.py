"""Full-batch GD steps/s of the bench MLP in JAX (jit, CPU, one thread): the network of
bench/torch_train.py (D = 16, three ReLU hidden layers of `width`, P = 256, scalar
output, squared loss, the same learning rate), one jitted step (forward, backward,
update), the loss read back only at the end. Timed in process CPU time (XLA may run the
step on a thread of its own; every thread of the process counts, other jobs on a shared
machine do not), after 5 untimed warm-up steps (the first one compiles).
    XLA_FLAGS is set here to one thread: --xla_cpu_multi_thread_eigen=false
    intra_op_parallelism_threads=1.
Usage: python bench/jax_train.py [width] [steps]   (jax in a throwaway venv, e.g.
/tmp/venv-jax: python3 -m venv /tmp/venv-jax && /tmp/venv-jax/bin/pip install jax)"""
import os
import sys
import time

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

width = int(sys.argv[1]) if len(sys.argv) > 1 else 64
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
key = jax.random.PRNGKey(0)
kx, ky, *kw = jax.random.split(key, 6)
x = jax.random.normal(kx, (256, 16), jnp.float32)
y = jax.random.normal(ky, (256, 1), jnp.float32)
dims = [16, width, width, width, 1]
lr = 0.1 * min(1.0, 64 / width)  # as bench/torch_train.py
ws = [jax.random.normal(k, (o, i), jnp.float32) / i**0.5 for k, i, o in zip(kw, dims, dims[1:])]


def loss_fn(ws):
    h = x
    for w in ws[:-1]:
        h = jax.nn.relu(h @ w.T)
    f = h @ ws[-1].T
    return 0.5 * jnp.mean((f - y) ** 2)


@jax.jit
def step(ws):
    loss, grads = jax.value_and_grad(loss_fn)(ws)
    return [w - lr * g for w, g in zip(ws, grads)], loss


for _ in range(5):
    ws, loss = step(ws)
jax.block_until_ready(ws)
t = time.process_time()
for _ in range(steps):
    ws, loss = step(ws)
jax.block_until_ready(ws)
s = time.process_time() - t
print(f"# jax {jax.__version__} {jax.default_backend()} final loss {float(loss):.4e}")
print(f"jax_width{width} {steps / s:.1f} steps/s")
