"""Independent numpy implementation of the project's cost and gradients.

Reads a model and a batch in the JSON interchange format, computes
J = (1/m) Σ ½‖h(x) − y‖² + (λ/2) Σ W² and its gradients by plain numpy
backpropagation, and compares them with a gradients file written by
`backprop grads`:

    python3 examples/crosscheck.py MODEL.json DATA.json LAMBDA GRADS.json
"""
import json
import sys

import numpy as np


def forward(layers, default, x):
    acts = [x]
    for layer in layers:
        z = acts[-1] @ np.array(layer["weight"]) + np.array(layer["bias"])
        f = layer.get("activation", default)
        acts.append(1 / (1 + np.exp(-z)) if f == "sigmoid" else np.tanh(z))
    return acts


def gradients(model, data, lam):
    layers, default = model["layers"], model["activation"]
    x, y = np.array(data["x"], float), np.array(data["y"], float)
    m = x.shape[0]
    acts = forward(layers, default, x)
    cost = 0.5 * np.sum((acts[-1] - y) ** 2) / m
    cost += lam / 2 * sum(np.sum(np.array(l["weight"]) ** 2) for l in layers)
    grads = [None] * len(layers)
    delta = acts[-1] - y
    for l in reversed(range(len(layers))):
        a = acts[l + 1]
        f = layers[l].get("activation", default)
        delta = delta * (a * (1 - a) if f == "sigmoid" else 1 - a**2)
        w = np.array(layers[l]["weight"])
        grads[l] = {"weight": acts[l].T @ delta / m + lam * w, "bias": delta.sum(0) / m}
        delta = delta @ w.T
    return cost, grads


def main():
    model, data = (json.load(open(p)) for p in sys.argv[1:3])
    lam = float(sys.argv[3])
    theirs = json.load(open(sys.argv[4]))
    cost, grads = gradients(model, data, lam)
    print(f"cost: numpy {cost:.17g}, backprop {theirs['cost']:.17g}")
    worst = 0.0
    for l, (g, t) in enumerate(zip(grads, theirs["layers"])):
        for name in ("weight", "bias"):
            a, b = g[name].ravel(), np.array(t[name]).ravel()
            rel = np.linalg.norm(a - b) / np.linalg.norm(a + b)
            worst = max(worst, rel)
            print(f"layers.{l}.{name}: ‖numpy − backprop‖/‖numpy + backprop‖ = {rel:.2e}")
    sys.exit(0 if worst < 1e-12 else 1)


if __name__ == "__main__":
    main()
