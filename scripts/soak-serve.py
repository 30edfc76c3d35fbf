#!/usr/bin/env python3
"""A served device under load, faults and hostile input, on loopback only.

One `backprop serve` process (flex, with a token) is driven through phases:

  warm-up   every job once; the server's heap and RSS are the baseline
  load      CLIENTS concurrent clients run grads/check/train jobs for
            DURATION seconds (at most MAX_REQUESTS jobs), while a probe
            times one fixed request; the same probe first runs alone
  sessions  SESSIONS short sessions one after another
  faults    a client SIGKILLed mid-step and mid-transfer; one SIGSTOPped
            mid-transfer while another job runs, then killed; a silent
            connection; one that stops half-way through a frame
  hostile   random bytes; a WebSocket handshake then random frames; a
            frame announcing 1 GiB; a flood of connections and of clients
            with a wrong token
  isolated  a second server with --max-memory: a job over the limit ends
            its own session, the next job's numbers are still exact

Every job's output must equal the same job on local flex byte for byte.
The script fails (exit 1) on any mismatch, a server that stops serving or
logs a panic, a heap that grows past its bound, or a phase that leaves a
session behind. It prints the figures (and writes them as JSON with --json)
and stops by itself: every loop is bounded in count and time.

  python3 scripts/soak-serve.py --backprop target-extra/release/examples/backprop
      [--clients 8] [--duration 600] [--max-requests 100000] [--sessions 1000]
      [--json FILE] [--curve FILE]
"""

import argparse
import concurrent.futures
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "soak-test-token-of-enough-bytes"
# The server's heap may hold this much more after the soak than after the
# warm-up: burn keeps per-process caches (kernels, op descriptions) that are
# filled once, not per session; a leak of even a few bytes per session over
# thousands of sessions passes it.
HEAP_BOUND = 8 << 20
# The resident set may end at most RSS_OVER_WARM above the warm-up's, and
# may not grow over the sequential sessions past what the concurrent load
# reached plus RSS_BOUND: glibc keeps freed blocks in its arenas (one per
# concurrently busy thread; the binary asks it to keep them, for training
# speed), so RSS settles near the load's peak while the heap itself must
# come back to the warm-up's (above).
RSS_OVER_WARM = 32 << 20
RSS_BOUND = 8 << 20
# Pre-authentication input may cost the server at most this much heap while
# it arrives (the gate drops a client past 64 KiB).
HOSTILE_BOUND = 16 << 20


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Soak:
    def __init__(self, args):
        self.args = args
        self.backprop = os.path.abspath(args.backprop)
        self.dir = tempfile.mkdtemp(prefix="backprop-soak-")
        self.failures = []
        self.figures = {}
        self.curve = []
        self.lock = threading.Lock()
        self.write_inputs()

    # ---- inputs and references -------------------------------------------

    def write_inputs(self):
        rng = random.Random(7)
        rows = 200
        x = [[rng.uniform(-1, 1) for _ in range(64)] for _ in range(rows)]
        y = [[1.0 if j == i % 10 else 0.0 for j in range(10)] for i in range(rows)]
        self.data = self.path("data.json")
        with open(self.data, "w") as f:
            json.dump({"x": x, "y": y}, f)
        self.token_file = self.path("token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        # A model of the shape the jobs use, trained locally for one epoch.
        out = self.path("seed-model")
        self.run_ok(["train", "--epochs", "1", "--quiet", "--out", out])
        self.model = os.path.join(out, "network.json")
        # A wide one for the transfer faults: 64-3000-10, f64 gradients of
        # 1.6 MB each way.
        wide = self.path("wide-model")
        self.run_ok(["train", "--epochs", "1", "--hidden", "3000", "--quiet", "--out", wide])
        self.wide_model = os.path.join(wide, "network.json")

    def path(self, name):
        return os.path.join(self.dir, name)

    def run_ok(self, argv, env=None):
        done = subprocess.run([self.backprop] + argv, capture_output=True, env=env, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"setup failed: backprop {' '.join(argv)}\n{done.stderr.decode()}")
        return done

    def job(self, kind, backend_args, out_dir):
        """The command of job `kind` on `backend_args`; its output is compared."""
        if kind == "grads":
            return ["grads", "--model", self.model, "--data", self.data, "--dtype", "f64",
                    "--lambda", "0.01"] + backend_args
        if kind == "check":
            return ["check", "--model", self.model, "--data", self.data] + backend_args
        if kind == "train":
            return ["train", "--epochs", "30", "--quiet", "--out", out_dir] + backend_args
        raise ValueError(kind)

    def result(self, kind, done, out_dir):
        """The bytes that must match: gradients, the check's table, the saved model."""
        if kind == "grads":
            return done.stdout
        if kind == "check":
            # The first line names the device; the table below is numbers.
            return b"\n".join(done.stdout.splitlines()[1:])
        with open(os.path.join(out_dir, "network.json"), "rb") as f:
            return f.read()

    def references(self):
        self.reference = {}
        for kind in ["grads", "check", "train"]:
            out = self.path(f"reference-{kind}")
            done = self.run_ok(self.job(kind, ["--backend", "flex"], out))
            self.reference[kind] = self.result(kind, done, out)

    # ---- the server ------------------------------------------------------

    def start_server(self, extra, name):
        log = open(self.path(f"{name}.log"), "w")
        process = subprocess.Popen(
            [self.backprop, "serve", "--listen", "127.0.0.1:0", "--token-file", self.token_file]
            + extra,
            stdout=subprocess.PIPE, stderr=log, env=dict(os.environ, NO_COLOR="1"))
        url = None
        lines = []
        deadline = time.time() + 60
        while url is None and time.time() < deadline:
            line = process.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
            if line.startswith("serving "):
                url = next(w for w in line.split() if w.startswith("ws://"))
        if url is None:
            raise SystemExit(f"the server did not start: {''.join(lines)}")
        # Keep its log flowing into a file (a closed pipe would end it).
        out = open(self.path(f"{name}.out"), "w")

        def drain():
            for line in process.stdout:
                out.write(line.decode())
                out.flush()

        threading.Thread(target=drain, daemon=True).start()
        return process, url

    def status(self, url):
        host, port = url[len("ws://"):].rsplit(":", 1)
        data = ask(host, int(port), b"GET /backprop/status HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
                   + TOKEN.encode() + b"\r\nconnection: close\r\n\r\n")
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"status: {head[:80]!r}")
        return json.loads(body)

    def rss(self, pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def sample(self, phase):
        status = self.status(self.url)
        point = {"t": round(time.time() - self.started, 2), "phase": phase,
                 "rss": self.rss(self.server.pid), "heap": status["heap_bytes"],
                 "clients": status["clients"]}
        with self.lock:
            self.curve.append(point)
        return point

    def sampler(self, stop):
        while not stop.wait(0.5):
            try:
                self.sample(self.phase)
            except (OSError, RuntimeError):
                pass

    def idle(self, url, limit=10.0):
        """Waits until the gate counts no session (the last one has ended)."""
        deadline = time.time() + limit
        while time.time() < deadline:
            if self.status(url)["clients"] == 0:
                return True
            time.sleep(0.05)
        return False

    # ---- clients ---------------------------------------------------------

    def remote(self, url):
        return ["--backend", "remote", "--remote", url, "--token-file", self.token_file]

    def run_job(self, kind, url, label):
        out = tempfile.mkdtemp(dir=self.dir, prefix=f"{kind}-")
        start = time.perf_counter()
        done = subprocess.run([self.backprop] + self.job(kind, self.remote(url), out),
                              capture_output=True, timeout=300)
        seconds = time.perf_counter() - start
        ok = done.returncode == 0 and self.result(kind, done, out) == self.reference[kind]
        if not ok:
            self.fail(f"{label}: {kind} differs from local flex or failed "
                      f"(exit {done.returncode}): {done.stderr.decode()[-400:]}")
        subprocess.run(["rm", "-rf", out])
        return ok, seconds

    def fail(self, message):
        with self.lock:
            self.failures.append(message)
        print(f"FAIL {message}", file=sys.stderr)

    # ---- phases ----------------------------------------------------------

    def warm_up(self):
        for kind in ["grads", "check", "train"]:
            self.run_job(kind, self.url, "warm-up")
        self.idle(self.url)
        time.sleep(1)
        self.warm = self.sample("warm")
        alone = [self.run_job("grads", self.url, "alone")[1] for _ in range(self.args.probes)]
        self.figures["latency_alone"] = {"p50": percentile(alone, 50), "p99": percentile(alone, 99),
                                         "max": max(alone), "n": len(alone)}

    def load(self):
        stop_at = time.time() + self.args.duration
        counts = {"grads": 0, "check": 0, "train": 0}
        issued = [0]
        kinds = ["grads", "check", "train"]

        def client(i):
            n = i
            while time.time() < stop_at:
                with self.lock:
                    if issued[0] >= self.args.max_requests:
                        return
                    issued[0] += 1
                kind = kinds[n % 3]
                n += 1
                ok, _ = self.run_job(kind, self.url, f"client {i}")
                with self.lock:
                    counts[kind] += ok

        threads = [threading.Thread(target=client, args=(i,)) for i in range(self.args.clients)]
        for t in threads:
            t.start()
        under_load = []
        while time.time() < stop_at and len(under_load) < self.args.probes * 20:
            under_load.append(self.run_job("grads", self.url, "probe")[1])
        for t in threads:
            t.join()
        self.figures["load"] = {"clients": self.args.clients, "seconds": self.args.duration,
                                "jobs_exact": counts, "jobs_issued": issued[0]}
        self.figures["latency_under_load"] = {"p50": percentile(under_load, 50),
                                              "p99": percentile(under_load, 99),
                                              "max": max(under_load, default=float("nan")),
                                              "n": len(under_load)}
        self.load_peak_rss = max((p["rss"] for p in self.curve if p["phase"] == "load"), default=0)

    def sessions(self):
        start = time.time()
        exact = sum(self.run_job("grads", self.url, f"session {i}")[0]
                    for i in range(self.args.sessions))
        self.figures["sessions"] = {"count": self.args.sessions, "exact": exact,
                                    "seconds": round(time.time() - start, 1)}
        self.idle(self.url)
        time.sleep(1)
        self.after = self.sample("after-soak")
        grown = self.after["heap"] - self.warm["heap"]
        self.figures["memory"] = {"warm": {"heap": self.warm["heap"], "rss": self.warm["rss"]},
                                  "load_peak_rss": self.load_peak_rss,
                                  "after_soak": {"heap": self.after["heap"], "rss": self.after["rss"]},
                                  "heap_bound": HEAP_BOUND, "rss_over_warm_bound": RSS_OVER_WARM,
                                  "rss_over_load_peak_bound": RSS_BOUND}
        if grown > HEAP_BOUND:
            self.fail(f"the server's heap grew by {grown} bytes over the soak (bound {HEAP_BOUND})")
        if self.after["rss"] > self.warm["rss"] + RSS_OVER_WARM:
            self.fail(f"the server's RSS grew by {self.after['rss'] - self.warm['rss']} bytes "
                      f"over the soak (bound {RSS_OVER_WARM})")
        if self.after["rss"] > self.load_peak_rss + RSS_BOUND:
            self.fail(f"the server's RSS grew by {self.after['rss'] - self.load_peak_rss} bytes "
                      f"over the sequential sessions (bound {RSS_BOUND})")

    def kill_mid_job(self, argv, delays, label, stop_first=False):
        """Starts `argv` against the server and SIGKILLs it after each delay.
        With `stop_first`, it is SIGSTOPped instead (its connection stalls,
        the server perhaps in the middle of sending) while another job runs,
        which must be exact, and killed after. Either way its session must end
        and the server's heap come back."""
        outcomes = []
        for delay in delays:
            before = self.status(self.url)["heap_bytes"]
            child = subprocess.Popen([self.backprop] + argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            time.sleep(delay)
            outcome = {"delay": delay}
            if stop_first:
                child.send_signal(signal.SIGSTOP)
                outcome["other_job_exact"] = self.run_job("grads", self.url, f"while {label}")[0]
                time.sleep(1)
            child.send_signal(signal.SIGKILL)
            child.wait()
            freed = self.idle(self.url)
            time.sleep(0.3)
            after = self.status(self.url)["heap_bytes"]
            outcomes.append(dict(outcome, session_ended=freed, heap_before=before, heap_after=after))
            if not freed:
                self.fail(f"{label} after {delay} s: its session was still open 10 s later")
            if after - before > HEAP_BOUND:
                self.fail(f"{label} after {delay} s: the server kept {after - before} bytes")
        return outcomes

    def faults(self):
        out = self.path("killed-train")
        train = ["train", "--epochs", "100000", "--hidden", "300", "--quiet", "--out", out] \
            + self.remote(self.url)
        self.figures["sigkill_mid_step"] = self.kill_mid_job(train, [0.5, 1.0, 2.0], "a client killed mid-step")
        grads = ["grads", "--model", self.wide_model, "--data", self.data, "--dtype", "f64"] \
            + self.remote(self.url)
        delays = [0.05 * k for k in range(1, 11)]
        self.figures["sigkill_mid_transfer"] = self.kill_mid_job(grads, delays, "a client killed mid-transfer")
        self.figures["stopped_mid_transfer"] = self.kill_mid_job(
            grads, [0.1, 0.2, 0.3], "a client stopped mid-transfer", stop_first=True)
        host, port = self.url[len("ws://"):].rsplit(":", 1)
        # A silent connection, and one that stops half-way through the
        # session's first frame, both held open past the handshake deadline.
        silent = socket.create_connection((host, int(port)))
        half = socket.create_connection((host, int(port)))
        half.sendall(upgrade_request(host, port) + b"\x82")
        time.sleep(0.2)
        self.run_job("grads", self.url, "while two clients stall")
        closed = [wait_closed(s, self.args.handshake_timeout + 5) for s in (silent, half)]
        self.figures["stalled"] = {"silent_dropped": closed[0], "half_frame_dropped": closed[1],
                                   "deadline_s": self.args.handshake_timeout}
        if not all(closed):
            self.fail(f"a stalled connection was not dropped at the deadline: {closed}")

    def hostile(self):
        host, port = self.url[len("ws://"):].rsplit(":", 1)
        port = int(port)
        rng = random.Random(11)
        before = self.status(self.url)["heap_bytes"]
        peak = [before]
        stop = threading.Event()

        def watch():
            while not stop.wait(0.02):
                try:
                    # None while this address is made to wait after the
                    # wrong tokens: the gate then reads no token, ours included.
                    heap = self.status(self.url)["heap_bytes"]
                    if heap is not None:
                        peak[0] = max(peak[0], heap)
                except (OSError, RuntimeError):
                    pass

        watcher = threading.Thread(target=watch)
        watcher.start()
        tried = {}
        # How fast bytes that are not HTTP (a TLS ClientHello's start: a wss://
        # client) are refused: connect to the server's close.
        refusals = []
        for _ in range(20):
            start = time.perf_counter()
            with socket.create_connection((host, port), timeout=5) as s:
                s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00]))
                wait_closed(s, 5)
            refusals.append(time.perf_counter() - start)
        tried["not_http_refused_in"] = {"p50": percentile(refusals, 50), "max": max(refusals)}
        # Random bytes, 100 connections of 1 KiB and one of 8 MiB: each must be
        # closed by the server, within its handshake deadline.
        limit = self.args.handshake_timeout + 5
        closed = sum(send_and_close(host, port, rng.randbytes(1024), limit) for _ in range(100))
        closed += send_and_close(host, port, rng.randbytes(8 << 20), limit)
        tried["random_bytes"] = f"100 × 1 KiB + 1 × 8 MiB: {closed} of 101 closed by the server"
        if closed != 101:
            self.fail(f"random bytes: only {closed} of 101 connections closed by the server")
        # A real handshake, then random frames (masked, as a client's are), 50
        # connections at once: each closed by the gate (refused at once, at the
        # deadline, or 503 beyond the connections allowed to authenticate).
        payloads = [upgrade_request(host, str(port)) + rng.randbytes(rng.randint(2, 4096))
                    for _ in range(50)]
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            closed = sum(pool.map(lambda p: send_and_close(host, port, p, limit), payloads))
        tried["handshake_then_random_frames"] = f"50 at once: {closed} of 50 closed by the server"
        if closed != 50:
            self.fail(f"random frames: only {closed} of 50 connections closed by the server")
        # A handshake, then a binary frame announcing 1 GiB: the connection is
        # held open a moment (tungstenite would reserve the whole gigabyte on
        # reading the header), then 8 MiB of it are sent.
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(upgrade_request(host, str(port)))
            s.recv(4096)  # the 101
            s.sendall(bytes([0x82, 0xFF]) + (1 << 30).to_bytes(8, "big") + rng.randbytes(4))
            time.sleep(0.5)
            held = self.status(self.url)["heap_bytes"]
            peak[0] = max(peak[0], held)
            try:
                s.sendall(rng.randbytes(8 << 20))
            except OSError:
                pass  # dropped by the gate, as it should be
        tried["oversized_frame"] = f"1 GiB announced: heap {held - before:+} bytes while held open"
        # A flood of connections opened and dropped.
        for i in range(500):
            try:
                socket.create_connection((host, port), timeout=1).close()
            except OSError:
                pass
        tried["connection_flood"] = 500
        line, _ = door(host, port)
        if not line.startswith("HTTP/1.1 400"):
            self.fail(f"after the flood the gate answers a request for a session {line!r}")
        # Clients with a wrong token, 40 at once.
        env = dict(os.environ, BACKPROP_TOKEN="not-the-token")
        wrong_argv = [self.backprop, "grads", "--model", self.model, "--data", self.data,
                      "--backend", "remote", "--remote", self.url]
        wrong = [subprocess.Popen(wrong_argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=env)
                 for _ in range(40)]
        refused = 0
        for p in wrong:
            _, err = p.communicate(timeout=60)
            refused += p.returncode != 0 and b"token" in err
        tried["wrong_token_clients"] = f"{refused} of 40 refused"
        # One wrong-token client alone, process start to exit.
        start = time.perf_counter()
        subprocess.run(wrong_argv, capture_output=True, env=env, timeout=60)
        tried["wrong_token_client_alone_s"] = time.perf_counter() - start
        if refused != 40:
            self.fail(f"only {refused} of 40 wrong-token clients were refused")
        # The address is now made to wait before it is heard again: the door
        # says so, and opens again within the longest wait (60 s).
        start = time.perf_counter()
        line, body = door(host, port)
        tried["after_wrong_tokens"] = f"{line}: {body.strip()}"
        if "too many wrong tokens" not in body:
            self.fail(f"after 41 wrong tokens the door answered {line!r} {body!r}")
        while "too many wrong tokens" in door(host, port)[1]:
            if time.perf_counter() - start > 70:
                self.fail("the door stayed shut more than 70 s after the wrong tokens")
                break
            time.sleep(1)
        tried["door_shut_for_s"] = round(time.perf_counter() - start, 1)
        stop.set()
        watcher.join()
        self.run_job("grads", self.url, "after the hostile input")
        self.idle(self.url)
        after = self.status(self.url)["heap_bytes"]
        self.figures["hostile"] = {"tried": tried, "heap_before": before, "heap_peak": peak[0],
                                   "heap_after": after, "bound": HOSTILE_BOUND}
        if peak[0] - before > HOSTILE_BOUND:
            self.fail(f"hostile input took the heap {peak[0] - before} bytes up (bound {HOSTILE_BOUND})")

    def isolated(self):
        server, url = self.start_server(["--max-memory", "16M"], "isolated")
        try:
            hog = subprocess.run([self.backprop, "grads", "--model", self.wide_model, "--data",
                                  self.data, "--dtype", "f64"] + self.remote(url),
                                 capture_output=True, timeout=120)
            exact = self.run_job("grads", url, "isolated, after the memory hog")[0]
            time.sleep(0.5)
            log = open(self.path("isolated.out")).read()
            ended = "ended at its memory limit" in log
            self.figures["isolated"] = {"hog_exit": hog.returncode,
                                        "hog_error": hog.stderr.decode().strip()[-300:],
                                        "logged_memory_limit": ended, "next_job_exact": exact,
                                        "server_alive": server.poll() is None}
            if hog.returncode == 0 or not ended or server.poll() is not None:
                self.fail(f"the memory hog was not ended alone: {self.figures['isolated']}")
        finally:
            server.terminate()
            server.wait(timeout=10)

    # ---- the whole soak --------------------------------------------------

    def run(self):
        self.references()
        self.server, self.url = self.start_server(
            ["--handshake-timeout", str(self.args.handshake_timeout)], "serve")
        self.started = time.time()
        self.phase = "warm-up"
        stop = threading.Event()
        sampler = threading.Thread(target=self.sampler, args=(stop,))
        sampler.start()
        try:
            for phase in ["warm_up", "load", "sessions", "faults", "hostile"]:
                self.phase = phase
                began = time.time()
                getattr(self, phase)()
                print(f"{phase}: {time.time() - began:.1f} s", file=sys.stderr)
                if self.server.poll() is not None:
                    self.fail(f"the server exited during {phase} ({self.server.returncode})")
                    break
        finally:
            stop.set()
            sampler.join()
            self.server.terminate()
            self.server.wait(timeout=10)
        self.isolated()
        log = open(self.path("serve.out")).read() + open(self.path("serve.log")).read()
        panics = [l for l in log.splitlines() if "panicked" in l]
        self.figures["server_panics"] = len(panics)
        if panics:
            self.fail(f"the server logged panics: {panics[:3]}")
        self.figures["log_lines"] = {
            "opened": log.count(" opened ("), "refused": log.count(": refused "),
            "dropped": log.count(": dropped "), "ended": log.count(" ended after ")}
        self.figures["failures"] = self.failures
        return not self.failures


def upgrade_request(host, port):
    return (f"GET /session HTTP/1.1\r\nhost: {host}:{port}\r\nupgrade: websocket\r\n"
            "connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "sec-websocket-version: 13\r\n\r\n").encode()


def send_and_close(host, port, payload, limit=10):
    """True when the server closes the connection within `limit` s of `payload`."""
    try:
        s = socket.create_connection((host, port), timeout=5)
    except OSError:
        return False
    try:
        s.sendall(payload)
    except OSError:
        s.close()
        return True  # the gate closed on us: what it should do
    return wait_closed(s, limit)


def ask(host, port, request):
    """Sends one HTTP request and reads the response to the server's close."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def door(host, port):
    """The gate's answer to a plain request for a session: its status line and body."""
    data = ask(host, port, b"GET /session HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body.decode()


def wait_closed(s, limit):
    """True once the server closes `s` (reads EOF or a reset) within `limit` s."""
    s.settimeout(limit)
    try:
        while s.recv(4096):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    finally:
        s.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backprop", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--max-requests", type=int, default=100000)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--handshake-timeout", type=float, default=2.0)
    parser.add_argument("--json")
    parser.add_argument("--curve")
    args = parser.parse_args()
    soak = Soak(args)
    ok = soak.run()
    print(json.dumps(soak.figures, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(soak.figures, f, indent=2)
    if args.curve:
        with open(args.curve, "w") as f:
            f.write("t,phase,rss,heap,clients\n")
            for p in soak.curve:
                f.write(f"{p['t']},{p['phase']},{p['rss']},{p['heap']},{p['clients']}\n")
    print("soak: PASS" if ok else f"soak: FAIL ({len(soak.failures)} failures)", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
