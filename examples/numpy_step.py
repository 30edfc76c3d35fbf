"""The benchmark step of `backprop bench`, hand-written in numpy (and in
PyTorch where it is installed), for a reference measured on the same machine
in the same sitting.

Same shapes, cost, sigmoid, λ = 1e-4 and α = 0.1 as `manual_backprop::bench`;
one step = forward, cost (read back), hand-written backward, update. Each
peer is written as its competent user writes a fast step (in-place passes and
updates, the products on transposed views; in PyTorch addmm and its own
sigmoid): the peers at their best, not at ours. Prints the median ms of
`--reps` steps after `--warmup` per shape, and the same for the step's matrix
products and exp alone in numpy (the `kernels ms` column).

PyTorch comes from `bash scripts/setup-libtorch.sh` (its .venv-tch/bin/python
has torch and numpy); the same libtorch is burn's `--backend tch`.

With `--epoch`, times instead the bench's end-to-end row: one epoch of
mini-batch gradient descent on MNIST 784-300-10 with m = 32 (the 60,000
training images from `--mnist-dir`, or synthetic data of that shape), each
epoch shuffled and every batch gathered by index, as the Rust training loop
does; median of `--epoch-reps` epochs after one unmeasured.

    python3 examples/numpy_step.py [--reps 15] [--warmup 3] [--dtype float32]
    python3 examples/numpy_step.py --epoch [--epoch-reps 3] [--mnist-dir data/mnist]
"""

import argparse
import gzip
import os
import time

import numpy as np

try:
    import torch
except ImportError:  # PyTorch is optional: numpy alone is the baseline.
    torch = None

SHAPES = [
    ("digits", [64, 25, 10], 1797),
    ("mnist", [784, 256, 256, 10], 128),
    ("wide", [1024, 1024, 1024, 10], 256),
]
WEIGHT_DECAY = 1e-4
LEARNING_RATE = 0.1


def numpy_step(weights, biases, x, y):
    """One step in numpy as a numpy user who cares for speed writes it: every
    element-wise pass in place on the product's own buffer, the products on
    transposed views (BLAS takes the transpose as a flag, nothing is copied),
    the weights and biases updated in place."""
    m = x.shape[0]
    activations = [x]
    # exp(−z) overflows to inf for z < −88 (f32): σ = 1/(1 + inf) = 0, its limit.
    with np.errstate(over="ignore"):
        for w, b in zip(weights, biases):
            z = activations[-1] @ w
            z += b
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)
            activations.append(z)
    residual = activations[-1] - y
    cost = 0.5 / m * float(np.vdot(residual, residual)) + WEIGHT_DECAY / 2 * sum(
        float(np.vdot(w, w)) for w in weights
    )
    grad = residual  # m · ∂J/∂h: the 1/m is applied once per gradient below
    for layer in reversed(range(len(weights))):
        w, b, a = weights[layer], biases[layer], activations[layer + 1]
        delta = 1.0 - a
        delta *= a
        delta *= grad  # σ′ = a(1 − a), times the gradient from above
        grad_w = activations[layer].T @ delta
        grad_w *= 1.0 / m
        grad_w += WEIGHT_DECAY * w
        grad_b = delta.sum(0)
        if layer > 0:
            grad = delta @ w.T  # before the update: the gradient at the current weights
        w -= LEARNING_RATE * grad_w
        b -= LEARNING_RATE / m * grad_b
    return cost


def torch_step(weights, biases, x, y):
    """One step in PyTorch as a PyTorch user writes it by hand, under
    torch.no_grad(): the bias added inside the product (addmm), PyTorch's own
    sigmoid kernel, the products on transposed views, gradients scaled and
    the parameters updated in place."""
    m = x.shape[0]
    activations = [x]
    for w, b in zip(weights, biases):
        activations.append(torch.sigmoid(torch.addmm(b, activations[-1], w)))
    residual = activations[-1] - y
    cost = 0.5 / m * residual.pow(2).sum() + WEIGHT_DECAY / 2 * sum(w.pow(2).sum() for w in weights)
    cost = cost.item()
    grad = residual  # m · ∂J/∂h, as in numpy_step
    for layer in reversed(range(len(weights))):
        w, b, a = weights[layer], biases[layer], activations[layer + 1]
        delta = (1.0 - a).mul_(a).mul_(grad)
        grad_w = (activations[layer].T @ delta).div_(m).add_(w, alpha=WEIGHT_DECAY)
        grad_b = delta.sum(0).div_(m)
        if layer > 0:
            grad = delta @ w.T
        w.sub_(grad_w, alpha=LEARNING_RATE)
        b.sub_(grad_b, alpha=LEARNING_RATE)
    return cost


def kernels(xs, weights, deltas):
    for l, (x, w, d) in enumerate(zip(xs, weights, deltas)):
        np.exp(x @ w)
        x.T @ d
        if l > 0:
            d @ w.T


def median_ms(f, warmup, reps):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


EPOCH_SIZES = [784, 300, 10]
EPOCH_BATCH = 32
EPOCH_EXAMPLES = 60_000


def read_idx(path):
    # IDX: 2 zero bytes, a type code (0x08: unsigned byte), the rank, then
    # big-endian u32 dimensions and the data.
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def epoch_data(mnist_dir, dtype):
    """MNIST's training set scaled to [0, 1] and one-hot targets, or synthetic data of its shape."""
    def find(base):
        for name in (base, base + ".gz"):
            path = os.path.join(mnist_dir, name)
            if os.path.isfile(path):
                return path
        return None

    images, labels = find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte")
    if images and labels:
        x = read_idx(images).reshape(-1, 784).astype(dtype) / 255.0
        labels = read_idx(labels)
        name = "mnist-train"
    else:
        rng = np.random.default_rng(3)
        x = rng.random((EPOCH_EXAMPLES, EPOCH_SIZES[0])).astype(dtype)
        labels = rng.integers(0, EPOCH_SIZES[2], EPOCH_EXAMPLES)
        name = "synthetic-mnist"
    y = np.zeros((len(labels), EPOCH_SIZES[2]), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1.0
    return name, x, y


def time_epochs(run_epoch, reps):
    run_epoch(0)
    times = []
    for rep in range(1, reps + 1):
        start = time.perf_counter()
        run_epoch(rep)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def epoch_main(args, dtype):
    name, x, y = epoch_data(args.mnist_dir, dtype)
    m = len(x)
    rng = np.random.default_rng(0)
    sizes = EPOCH_SIZES
    weights = [(rng.standard_normal((i, o)) * 0.1).astype(dtype) for i, o in zip(sizes, sizes[1:])]
    biases = [(rng.standard_normal(o) * 0.1).astype(dtype) for o in sizes[1:]]
    steps = -(-m // EPOCH_BATCH)
    print(f"one epoch of {name} {sizes[0]}-{sizes[1]}-{sizes[2]}, m = {EPOCH_BATCH}, {steps} steps, {dtype}")
    print(f"{'peer':<28} {'epoch s':>8} {'steps/s':>8}")

    def numpy_epoch(rep):
        order = np.random.default_rng(rep).permutation(m)
        for start in range(0, m, EPOCH_BATCH):
            rows = order[start : start + EPOCH_BATCH]
            numpy_step(weights, biases, x[rows], y[rows])

    seconds = time_epochs(numpy_epoch, args.epoch_reps)
    print(f"{'numpy ' + np.__version__:<28} {seconds:>8.3f} {steps / seconds:>8.0f}")
    if torch is None:
        print("PyTorch: not installed (pip install torch) — skipped")
        return
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    tw = [torch.tensor(w, dtype=tdtype) for w in weights]
    tb = [torch.tensor(b, dtype=tdtype) for b in biases]

    def torch_epoch(rep):
        order = torch.from_numpy(np.random.default_rng(rep).permutation(m))
        for start in range(0, m, EPOCH_BATCH):
            rows = order[start : start + EPOCH_BATCH]
            torch_step(tw, tb, tx[rows], ty[rows])

    with torch.no_grad():
        seconds = time_epochs(torch_epoch, args.epoch_reps)
    label = f"PyTorch {torch.__version__.split('+')[0]} ({torch.get_num_threads()} threads)"
    print(f"{label:<28} {seconds:>8.3f} {steps / seconds:>8.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--epoch", action="store_true", help="time the end-to-end MNIST epoch instead")
    parser.add_argument("--epoch-reps", type=int, default=3)
    parser.add_argument("--mnist-dir", default="data/mnist")
    parser.add_argument("--shapes", default="digits,mnist,wide", help="step shapes to time, comma-separated")
    args = parser.parse_args()
    known = [name for name, _, _ in SHAPES]
    chosen = args.shapes.split(",")
    if any(name not in known for name in chosen):
        parser.error(f"--shapes: choose from {','.join(known)}")
    dtype = np.dtype(args.dtype)
    if args.epoch:
        epoch_main(args, dtype)
        return
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, {dtype}" + (f"; PyTorch {torch.__version__}" if torch else "; PyTorch not installed"))
    print(f"{'shape':<7} {'step ms':>9} {'kernels ms':>11} {'torch step ms':>14}")
    for name, sizes, m in SHAPES:
        if name not in chosen:
            continue
        weights = [(rng.standard_normal((i, o)) * 0.1).astype(dtype) for i, o in zip(sizes, sizes[1:])]
        biases = [(rng.standard_normal(o) * 0.1).astype(dtype) for o in sizes[1:]]
        x = rng.random((m, sizes[0])).astype(dtype)
        y = rng.random((m, sizes[-1])).astype(dtype)
        torch_ms = float("nan")
        if torch is not None:
            tw = [torch.tensor(w) for w in weights]
            tb = [torch.tensor(b) for b in biases]
            tx, ty = torch.tensor(x), torch.tensor(y)
            with torch.no_grad():
                torch_ms = median_ms(lambda: torch_step(tw, tb, tx, ty), args.warmup, args.reps)
        step_ms = median_ms(lambda: numpy_step(weights, biases, x, y), args.warmup, args.reps)
        xs = [rng.random((m, i)).astype(dtype) - 0.5 for i in sizes[:-1]]
        ds = [rng.random((m, o)).astype(dtype) - 0.5 for o in sizes[1:]]
        kernel_ms = median_ms(lambda: kernels(xs, weights, ds), args.warmup, args.reps)
        print(f"{name:<7} {step_ms:>9.3f} {kernel_ms:>11.3f} {torch_ms:>14.3f}")


if __name__ == "__main__":
    main()
