"""Full-batch GD steps/s of the bench MLP in PyTorch on one CPU thread: D = 16, three
ReLU hidden layers of `width`, P = 256, scalar output, squared loss. Same work per step
as examples/bench_train.rs (forward, backward, update; loss read back only at the end).
Timed in thread CPU time (torch runs its ops on this thread), like the Rust side, so that
other jobs on a shared machine do not count."""
import sys
import time

import torch

torch.set_num_threads(1)
width = int(sys.argv[1]) if len(sys.argv) > 1 else 64
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
torch.manual_seed(0)
x = torch.randn(256, 16)
y = torch.randn(256, 1)
dims = [16, width, width, width, 1]
lr = 0.1 * min(1.0, 64 / width)  # standard parameterisation: keep the run finite
ws = [(torch.randn(o, i) / i**0.5).requires_grad_() for i, o in zip(dims, dims[1:])]


def step():
    h = x
    for w in ws[:-1]:
        h = torch.relu(h @ w.T)
    f = h @ ws[-1].T
    loss = 0.5 * ((f - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for w in ws:
            w -= lr * w.grad
            w.grad = None
    return loss


for _ in range(5):
    step()
t = time.thread_time()
for _ in range(steps):
    loss = step()
s = time.thread_time() - t
print(f"# torch {torch.__version__} threads {torch.get_num_threads()} final loss {loss.item():.4e}")
print(f"torch_width{width} {steps / s:.1f} steps/s")
