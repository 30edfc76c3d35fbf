"""The benchmark step of `backprop bench`, hand-written in numpy, for a
reference measured on the same machine in the same sitting.

Same shapes, cost, sigmoid, λ = 1e-4 and α = 0.1 as `manual_backprop::bench`;
one step = forward, cost (read back), hand-written backward, update. Prints
the median ms of `--reps` steps after `--warmup` per shape, and the same for
the step's matrix products and exp alone (the `kernels ms` column).

    python3 examples/numpy_step.py [--reps 15] [--warmup 3] [--dtype float32]
"""

import argparse
import time

import numpy as np

SHAPES = [
    ("digits", [64, 25, 10], 1797),
    ("mnist", [784, 256, 256, 10], 128),
    ("wide", [1024, 1024, 1024, 10], 256),
]
WEIGHT_DECAY = 1e-4
LEARNING_RATE = 0.1


def sigmoid(z):
    # The crate's formula: 1 / (1 + e^(−z)) with −z capped below overflow.
    cap = 88.0 if z.dtype == np.float32 else 709.0
    return 1.0 / (1.0 + np.exp(np.minimum(-z, cap)))


def step(weights, biases, x, y):
    m = x.shape[0]
    activations = [x]
    for w, b in zip(weights, biases):
        activations.append(sigmoid(activations[-1] @ w + b))
    h = activations[-1]
    residual = h - y
    cost = 0.5 / m * float(np.sum(residual * residual)) + WEIGHT_DECAY / 2 * sum(
        float(np.sum(w * w)) for w in weights
    )
    grad = residual / m
    for layer in reversed(range(len(weights))):
        a = activations[layer + 1]
        delta = grad * (a * (1.0 - a))
        grad_w = activations[layer].T @ delta + WEIGHT_DECAY * weights[layer]
        grad_b = delta.sum(axis=0)
        if layer > 0:
            grad = delta @ weights[layer].T
        weights[layer] -= LEARNING_RATE * grad_w
        biases[layer] -= LEARNING_RATE * grad_b
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, {dtype}")
    print(f"{'shape':<7} {'step ms':>9} {'kernels ms':>11}")
    for name, sizes, m in SHAPES:
        weights = [(rng.standard_normal((i, o)) * 0.1).astype(dtype) for i, o in zip(sizes, sizes[1:])]
        biases = [(rng.standard_normal(o) * 0.1).astype(dtype) for o in sizes[1:]]
        x = rng.random((m, sizes[0])).astype(dtype)
        y = rng.random((m, sizes[-1])).astype(dtype)
        step_ms = median_ms(lambda: step(weights, biases, x, y), args.warmup, args.reps)
        xs = [rng.random((m, i)).astype(dtype) - 0.5 for i in sizes[:-1]]
        ds = [rng.random((m, o)).astype(dtype) - 0.5 for o in sizes[1:]]
        kernel_ms = median_ms(lambda: kernels(xs, weights, ds), args.warmup, args.reps)
        print(f"{name:<7} {step_ms:>9.3f} {kernel_ms:>11.3f}")


if __name__ == "__main__":
    main()
