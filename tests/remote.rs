//! burn's remote backend end to end, on loopback: servers are started by the
//! tests on free ports and stopped by them. Builds with `--features remote`
//! (`scripts/test-remote.sh`).
#![cfg(feature = "remote")]

mod common;

use common::{cases, gradient_values, worst_relative};
use manual_backprop::backend::remote::{self, GateOptions, ServeOptions, Server};
use manual_backprop::gradients::GradientSource;
use manual_backprop::gradients::{autodiff_gradients, node_gradients};
use manual_backprop::run::{self, TrainOptions};
use manual_backprop::training::{Batch, DataParallel, Objective};
use manual_backprop::verification::{Tolerance, compare};
use manual_backprop::{Backend, Precision, tensor};
use socket2::{Domain, Socket, Type};
use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The token of every server of this test binary, in this process or a
/// `backprop serve`: the client's token is process-wide, so tests that need
/// another one use the CLI.
const TOKEN: &str = "in-process-test-token";

/// A flex server on a free loopback port, in this process, behind its gate.
fn in_process_server() -> (Server, String) {
    remote::set_token(Some(TOKEN.into()));
    let server = Server::start(&ServeOptions {
        backends: vec![Backend::Flex],
        listen: "127.0.0.1:0".parse().unwrap(),
        token: Some(TOKEN.into()),
        gate: Some(GateOptions::default()),
    })
    .expect("server starts");
    let url = server.urls[0].1.clone();
    (server, url)
}

/// The examples binary cargo built beside this test.
fn backprop() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples")
        .join("backprop")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("backprop-remote-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `backprop serve` process, killed when dropped.
struct ServeProcess {
    child: Child,
    url: String,
    log: PathBuf,
}

impl ServeProcess {
    fn start(args: &[&str], token: Option<&str>, dir: &Path) -> ServeProcess {
        let log = dir.join("serve.log");
        let mut command = Command::new(backprop());
        command
            .arg("serve")
            .args(args)
            .env_remove(remote::TOKEN_VARIABLE)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(token) = token {
            let file = dir.join("server-token");
            std::fs::write(&file, format!("{token}\n")).unwrap();
            command.arg("--token-file").arg(&file);
        }
        let mut child = command.spawn().expect("backprop serve starts");
        // A line names the URL once the port is bound; the rest is the
        // server's log, kept in a file for the assertions.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // (The server's own log may come first: it starts as the port binds.)
        let mut early = String::new();
        let announced = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| {
                early.push_str(l);
                early.push('\n');
                l.starts_with("serving ")
            })
            .expect("serve prints its URL");
        let url = announced
            .split_whitespace()
            .find(|w| w.starts_with("ws://"))
            .unwrap_or_else(|| panic!("no URL in {announced:?}"))
            .to_string();
        let out = log.with_extension("out");
        let _ = std::fs::write(&out, &early);
        std::thread::spawn(move || {
            let mut text = early;
            for line in lines.map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
                let _ = std::fs::write(&out, &text);
            }
        });
        ServeProcess { child, url, log }
    }

    /// The server's log once it satisfies `ready` (lines arrive through a
    /// pipe, a moment after the client saw the result), or as it is after 5 s.
    fn log_when(&self, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let log = std::fs::read_to_string(self.log.with_extension("out")).unwrap_or_default();
            if ready(&log) || start.elapsed() > Duration::from_secs(5) {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with `args`, the token (if any) in the environment.
fn client(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(backprop());
    command.args(args).env_remove(remote::TOKEN_VARIABLE);
    if let Some(token) = token {
        command.env(remote::TOKEN_VARIABLE, token);
    }
    command.output().expect("backprop runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn manual_gradients_equal_autodiff_on_a_remote_device_and_local_flex_bit_for_bit() {
    let (_server, url) = in_process_server();
    let device = Backend::Remote(url.clone())
        .device_for(Precision::F64)
        .unwrap();
    let flex = Backend::Flex.device().unwrap();
    let mut worst = 0.0_f64;
    for case in cases() {
        let (net, x, y) = case.build(&device, Precision::F64, 11);
        let manual = net
            .gradients(x.clone(), y.clone(), case.weight_decay)
            .unwrap();
        let autodiff = autodiff_gradients(&net, x, y, case.weight_decay).unwrap();
        let report = compare(
            &net,
            ("manual", "autodiff"),
            &net.to_gradients_params(&manual),
            &net.to_gradients_params(&autodiff),
            Tolerance::exact(Precision::F64),
        )
        .unwrap();
        assert!(report.passed, "{} on {url}:\n{report}", case.name);
        worst = worst.max(report.max_relative_difference());
        // The server runs flex's kernels on the same values in the same
        // order: the numbers that come back are flex's own.
        let (local, lx, ly) = case.build(&flex, Precision::F64, 11);
        let here = local.gradients(lx, ly, case.weight_decay).unwrap();
        assert_eq!(manual.cost.to_bits(), here.cost.to_bits(), "{}", case.name);
        for (a, b) in manual.layers.iter().zip(&here.layers) {
            assert_eq!(
                tensor::to_vec(&a.weight).unwrap(),
                tensor::to_vec(&b.weight).unwrap()
            );
            assert_eq!(
                tensor::to_vec(&a.bias).unwrap(),
                tensor::to_vec(&b.bias).unwrap()
            );
        }
    }
    println!(
        "remote flex: worst manual-vs-autodiff ‖m−a‖/‖m+a‖ {worst:e}; equal to local flex bit for bit"
    );
}

#[test]
fn the_hand_written_nodes_run_on_a_remote_device_and_give_local_flexs_gradients() {
    // The nodes' forward is composed of the remote backend's operations and
    // their backward runs under Autodiff<Remote>: the server runs flex's
    // kernels, so the numbers are local flex's own, bit for bit.
    let (_server, url) = in_process_server();
    let device = Backend::Remote(url).device_for(Precision::F64).unwrap();
    let flex = Backend::Flex.device().unwrap();
    for case in cases().into_iter().take(4) {
        let (net, x, y) = case.build(&device, Precision::F64, 11);
        let remote = node_gradients(&net, x, y, case.weight_decay).unwrap();
        let (local, lx, ly) = case.build(&flex, Precision::F64, 11);
        let here = local.gradients(lx, ly, case.weight_decay).unwrap();
        assert_eq!(remote.cost.to_bits(), here.cost.to_bits(), "{}", case.name);
        for (a, b) in remote.layers.iter().zip(&here.layers) {
            assert_eq!(
                tensor::to_vec(&a.weight).unwrap(),
                tensor::to_vec(&b.weight).unwrap()
            );
        }
    }
}

#[test]
fn a_gradient_split_between_a_remote_and_a_local_device_is_the_whole_batch_gradient() {
    let (_server, url) = in_process_server();
    let remote = Backend::Remote(url).device_for(Precision::F64).unwrap();
    let flex = Backend::Flex.device().unwrap();
    let mut worst = 0.0_f64;
    for case in cases() {
        let (net, x, y) = case.build(&flex, Precision::F64, 3);
        let whole = Batch {
            x: x.clone(),
            y: y.clone(),
            weight_decay: case.weight_decay,
            source: GradientSource::Manual,
        };
        let single = whole.cost_and_gradients(&net).unwrap();
        let parallel = DataParallel::new(&[remote.clone(), flex.clone()], &x, &y).unwrap();
        let combined = parallel
            .full_batch(case.weight_decay, GradientSource::Manual)
            .cost_and_gradients(&net)
            .unwrap();
        let rel = worst_relative(
            &gradient_values(&combined.layers),
            &gradient_values(&single.layers),
        );
        // As in tests/data_parallel.rs: a few roundings of regrouping, ~1e-15.
        assert!(rel <= 1e-12, "{}: {rel:e}", case.name);
        worst = worst.max(rel);
        assert!((combined.cost - single.cost).abs() <= 1e-12 * single.cost);
    }
    println!("remote + local shards vs one device: worst ‖a−b‖/‖b‖ {worst:e}");
}

#[test]
fn data_parallel_training_over_a_remote_and_a_local_device_matches_one_device() {
    let (_server, url) = in_process_server();
    let options = TrainOptions {
        epochs: 20,
        dtype: Precision::F64,
        ..TrainOptions::default()
    };
    let split = options.load_data().unwrap();
    let single = run::train_on(&options, &split, |_| ControlFlow::Continue(())).unwrap();
    let parallel = TrainOptions {
        devices: vec![Backend::Remote(url), Backend::Flex],
        ..options.clone()
    };
    let parallel = run::train_on(&parallel, &split, |_| ControlFlow::Continue(())).unwrap();
    for (a, b) in parallel.outcome.history.iter().zip(&single.outcome.history) {
        let rel = (a.train.cost - b.train.cost).abs() / b.train.cost;
        assert!(rel <= 1e-12, "epoch {}: {rel:e}", a.epoch);
    }
    assert_eq!(parallel.summary.test.accuracy, single.summary.test.accuracy);
}

#[test]
fn train_against_a_serve_process_saves_the_local_flex_model_bit_for_bit() {
    let dir = scratch("train");
    let server = ServeProcess::start(&["--listen", "127.0.0.1:0"], Some(TOKEN), &dir);
    std::fs::write(dir.join("client-token"), format!("{TOKEN}\n")).unwrap();
    let common = ["train", "--epochs", "150", "--quiet"];
    let remote_out = dir.join("remote");
    let token_file = dir.join("client-token");
    let remote_run = client(
        &[
            &common[..],
            &[
                "--backend",
                "remote",
                "--remote",
                &server.url,
                "--token-file",
                token_file.to_str().unwrap(),
                "--out",
                remote_out.to_str().unwrap(),
            ],
        ]
        .concat(),
        None,
    );
    assert!(remote_run.status.success(), "{}", text(&remote_run.stderr));
    let local_out = dir.join("local");
    let local_run = client(
        &[&common[..], &["--out", local_out.to_str().unwrap()]].concat(),
        None,
    );
    assert!(local_run.status.success(), "{}", text(&local_run.stderr));
    for file in ["network.json", "last/network.json", "history.csv"] {
        let remote_file = std::fs::read_to_string(remote_out.join(file)).unwrap();
        let local_file = std::fs::read_to_string(local_out.join(file)).unwrap();
        if file == "history.csv" {
            // Same costs and accuracies epoch by epoch; only the timings differ.
            let strip = |t: &str| -> Vec<String> {
                t.lines()
                    .map(|l| l.split(',').take(10).collect::<Vec<_>>().join(","))
                    .collect()
            };
            assert_eq!(strip(&remote_file), strip(&local_file));
        } else {
            assert_eq!(remote_file, local_file, "{file}");
        }
    }
    let log = server.log_when(|l| l.contains("admitted"));
    assert!(log.contains("admitted"), "{log}");
    // SIGTERM stops the server cleanly.
    let mut server = server;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let status = wait_for(&mut server.child, Duration::from_secs(10)).expect("stops on SIGTERM");
    assert!(status.success(), "{status:?}");
}

fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_wrong_or_missing_token_is_refused_and_the_server_keeps_serving() {
    let dir = scratch("token");
    let server = ServeProcess::start(
        &["--listen", "127.0.0.1:0"],
        Some("the-right-token-of-the-server"),
        &dir,
    );
    let check = |token| {
        client(
            &[
                "check",
                "--backend",
                "remote",
                "--remote",
                &server.url,
                "--examples",
                "5",
            ],
            token,
        )
    };
    let wrong = check(Some("a-wrong-token-of-a-client"));
    assert_eq!(wrong.status.code(), Some(2));
    let message = text(&wrong.stderr);
    assert!(
        message.contains(&server.url) && message.contains("refused this client's token"),
        "{message}"
    );
    let missing = check(None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("requires a token"),
        "{}",
        text(&missing.stderr)
    );
    let right = check(Some("the-right-token-of-the-server"));
    assert!(right.status.success(), "{}", text(&right.stderr));
    assert!(
        text(&right.stdout).contains("PASS"),
        "{}",
        text(&right.stdout)
    );
    let log = server.log_when(|l| l.contains("admitted"));
    assert_eq!(log.matches("flex: refused").count(), 2, "{log}");
    assert!(log.contains("admitted"), "{log}");
}

#[test]
fn serve_refuses_to_listen_beyond_loopback_without_a_token() {
    let out = Command::new(backprop())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove(remote::TOKEN_VARIABLE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("needs a token"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_unreachable_server_is_an_error_within_the_connect_timeout() {
    // A port nobody listens on: burn keeps retrying, so this waits for our
    // deadline. The port stays bound (not listening: connections to it are
    // refused) until the test ends; a port freed at once could be handed to
    // the server another test starts on port 0 meanwhile, and was.
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&loopback.into()).unwrap();
    let url = format!("ws://{}", socket.local_addr().unwrap().as_socket().unwrap());
    let start = Instant::now();
    let error = Backend::Remote(url.clone())
        .device()
        .unwrap_err()
        .to_string();
    let waited = start.elapsed();
    assert!(error.contains(&url), "{error}");
    assert!(
        waited <= remote::CONNECT_TIMEOUT + Duration::from_secs(2),
        "{waited:?}"
    );
}

#[test]
fn a_killed_server_ends_training_with_an_error_and_the_last_epoch_saved() {
    let dir = scratch("killed");
    let mut server = ServeProcess::start(&["--listen", "127.0.0.1:0"], Some(TOKEN), &dir);
    let out = dir.join("run");
    let mut train = Command::new(backprop())
        .args([
            "train",
            "--backend",
            "remote",
            "--remote",
            &server.url,
            "--epochs",
            "1000000",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .env(remote::TOKEN_VARIABLE, TOKEN)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Let some epochs complete, then kill the server outright.
    std::thread::sleep(Duration::from_secs(3));
    server.child.kill().unwrap();
    let status = wait_for(&mut train, Duration::from_secs(30)).expect("the client ends");
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    std::io::Read::read_to_string(train.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains(&server.url) && stderr.contains("lost during epoch"),
        "{stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let epochs = summary["epochs"].as_u64().unwrap();
    assert!(epochs > 0, "{summary}");
    assert!(summary["stop"]["Failed"].is_object(), "{summary}");
    // The saved models load and predict on this machine.
    let predicted = client(
        &["predict", "--model", out.join("last").to_str().unwrap()],
        None,
    );
    assert!(predicted.status.success(), "{}", text(&predicted.stderr));
}

#[test]
fn a_grid_runs_on_two_servers_at_once_and_gives_the_local_numbers() {
    let (_first, one) = in_process_server();
    let (_second, two) = in_process_server();
    let grid: manual_backprop::experiment::GridConfig = serde_json::from_value(serde_json::json!({
        "base": { "dataset": "digits", "epochs": 40 },
        "backends": ["flex", {"remote": one}, {"remote": two}],
        "seeds": [1, 2]
    }))
    .unwrap();
    let out = scratch("grid");
    let rows = manual_backprop::experiment::run_grid(&grid, &out, |_, _| {}).unwrap();
    assert_eq!(rows.len(), 6);
    for seed in [1, 2] {
        let of = |backend: &Backend| {
            rows.iter()
                .find(|r| &r.backend == backend && r.seed == seed)
                .unwrap_or_else(|| panic!("no row for {backend} seed {seed}"))
        };
        let local = of(&Backend::Flex);
        for url in [&one, &two] {
            let remote = of(&Backend::Remote(url.clone()));
            assert_eq!(remote.final_cost.to_bits(), local.final_cost.to_bits());
            assert_eq!(remote.test_metric, local.test_metric);
        }
    }
}

/// The op sweep of `backprop conformance` on a served flex device, the tiny
/// sample of every family in f64 and f32, each compared with local flex in
/// f64 (bit-for-bit agreement is not required: the tolerance is derived
/// from the target's unit roundoff).
#[test]
fn the_op_sweep_passes_on_a_remote_device() {
    use manual_backprop::verification::conformance::{self, Scope};
    let (_server, url) = in_process_server();
    let families = conformance::families();
    let cases = conformance::cases(&families, Scope::Tiny, None).unwrap();
    for precision in Precision::ALL {
        let target = conformance::target(&Backend::Remote(url.clone()), precision).unwrap();
        let rows = conformance::sweep(&cases, &target, &mut |_| {});
        let failed = conformance::failures(&rows);
        assert!(failed.is_empty(), "{precision}: {}", failed.join("\n"));
    }
}

/// `ServeProcess::start`'s server, with `extra` flags and token "t".
fn serve_with(extra: &[&str], dir: &Path) -> ServeProcess {
    ServeProcess::start(
        &[&["--listen", "127.0.0.1:0"], extra].concat(),
        Some(TOKEN),
        dir,
    )
}

/// A client command against `url` with [`TOKEN`].
fn remote_job(args: &[&str], url: &str) -> Output {
    client(
        &[args, &["--backend", "remote", "--remote", url]].concat(),
        Some(TOKEN),
    )
}

#[test]
fn a_client_beyond_max_clients_is_told_the_server_is_full_and_the_session_in_progress_is_unharmed()
{
    let dir = scratch("max-clients");
    let server = serve_with(&["--max-clients", "1"], &dir);
    let out = dir.join("long");
    let mut long = Command::new(backprop())
        .args(["train", "--epochs", "1000000", "--quiet", "--out"])
        .arg(&out)
        .args(["--backend", "remote", "--remote", &server.url])
        .env(remote::TOKEN_VARIABLE, TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    server.log_when(|l| l.contains("opened (1 of 1 clients)"));
    let second = remote_job(&["check", "--examples", "5"], &server.url);
    assert_eq!(second.status.code(), Some(2));
    let message = text(&second.stderr);
    assert!(
        message.contains(&server.url) && message.contains("serving its limit of 1 clients"),
        "{message}"
    );
    // The first client is still training, and once it is gone a new one is served.
    assert!(
        long.try_wait().unwrap().is_none(),
        "the session in progress ended"
    );
    long.kill().unwrap();
    long.wait().unwrap();
    server.log_when(|l| l.matches(" ended after ").count() >= 1);
    let third = remote_job(&["check", "--examples", "5"], &server.url);
    assert!(third.status.success(), "{}", text(&third.stderr));
    let log = server.log_when(|l| l.contains("refused"));
    assert!(log.contains("refused 127.0.0.1:"), "{log}");
}

#[test]
fn a_stalled_or_oversized_handshake_is_dropped_before_authentication() {
    use std::io::{Read, Write};
    let dir = scratch("stalled");
    let server = serve_with(&["--handshake-timeout", "1"], &dir);
    remote::set_token(Some(TOKEN.into()));
    let address = server.url.trim_start_matches("ws://").to_string();
    let started = Instant::now();
    let mut silent = std::net::TcpStream::connect(&address).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The gate closes it: a read sees the end of the stream, not the timeout.
    assert_eq!(silent.read(&mut [0u8; 64]).unwrap(), 0);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // More than a handshake needs, before any authentication.
    let mut flood = std::net::TcpStream::connect(&address).unwrap();
    let _ =
        flood.write_all(&[b"GET /session HTTP/1.1\r\nx: ".as_slice(), &[b'A'; 1 << 20]].concat());
    // Bytes that are not HTTP at all are refused at once, not at the deadline.
    let mut garbage = std::net::TcpStream::connect(&address).unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let sent = Instant::now();
    garbage.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
    assert_eq!(garbage.read(&mut [0u8; 64]).unwrap_or(0), 0);
    assert!(
        sent.elapsed() < Duration::from_millis(500),
        "{:?}",
        sent.elapsed()
    );
    // A frame announcing 1 GiB before authentication: burn's WebSocket layer
    // (tungstenite) would reserve the whole length on reading its header.
    let heap = || served_heap(&server.url);
    let before = heap();
    let mut announcer = std::net::TcpStream::connect(&address).unwrap();
    announcer
        .write_all(
            format!(
                "GET /session HTTP/1.1\r\nhost: {address}\r\nupgrade: websocket\r\n\
                 connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 sec-websocket-version: 13\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let _ = announcer.read(&mut [0u8; 1024]);
    let mut header = vec![0x82, 0xff];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    announcer.write_all(&header).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let held = heap();
    assert!(held < before + (16 << 20), "{before} → {held}");
    // The server still serves, with exact numbers.
    let check = remote_job(&["check", "--examples", "5"], &server.url);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let log = server.log_when(|l| l.contains("bytes before authenticating"));
    assert!(log.contains("no complete handshake within 1 s"), "{log}");
    assert!(log.contains("bytes before authenticating"), "{log}");
    assert!(log.contains("not an HTTP request"), "{log}");
    assert!(
        log.contains("announced a frame of 1073741824 bytes before authenticating"),
        "{log}"
    );
}

#[test]
fn with_max_memory_a_session_past_the_limit_ends_alone_and_the_client_is_told_why() {
    let dir = scratch("max-memory");
    // A wide model, trained here, and data for it.
    let wide = dir.join("wide");
    let trained = client(
        &[
            "train",
            "--epochs",
            "1",
            "--hidden",
            "3000",
            "--quiet",
            "--out",
            wide.to_str().unwrap(),
        ],
        None,
    );
    assert!(trained.status.success(), "{}", text(&trained.stderr));
    let rows: Vec<Vec<f64>> = (0..200)
        .map(|i| (0..64).map(|j| ((i * 64 + j) % 17) as f64 / 17.0).collect())
        .collect();
    let targets: Vec<Vec<f64>> = (0..200)
        .map(|i| (0..10).map(|j| f64::from(u8::from(j == i % 10))).collect())
        .collect();
    let data = dir.join("data.json");
    std::fs::write(
        &data,
        serde_json::json!({"x": rows, "y": targets}).to_string(),
    )
    .unwrap();
    let model = wide.join("network.json");
    let server = serve_with(&["--max-memory", "16M"], &dir);
    let grads = |url: Option<&str>| {
        let args = [
            "grads",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--dtype",
            "f64",
        ];
        match url {
            Some(url) => remote_job(&args, url),
            None => client(&args, None),
        }
    };
    // The client's own estimate refuses a run that cannot fit, naming the server's limit.
    let estimated = remote_job(
        &["train", "--epochs", "2", "--hidden", "20000", "--quiet"],
        &server.url,
    );
    assert_eq!(estimated.status.code(), Some(2));
    let message = text(&estimated.stderr);
    assert!(
        message.contains("16.8 MB (the memory limit of a session on the server at"),
        "{message}"
    );
    // A job the estimate does not cover reaches the limit on the server: its
    // session alone ends, the client says why, and the server keeps serving.
    let hog = grads(Some(&server.url));
    assert_eq!(hog.status.code(), Some(2));
    let message = text(&hog.stderr);
    assert!(
        message.contains("the server ends a session whose memory would pass its limit of 16.8 MB"),
        "{message}"
    );
    let log = server.log_when(|l| l.contains("ended at its memory limit"));
    assert!(
        log.contains("ended at its memory limit: an allocation of"),
        "{log}"
    );
    let out = dir.join("small");
    let small = |url: Option<&str>, out: &Path| {
        let args = [
            "train",
            "--epochs",
            "20",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        match url {
            Some(url) => remote_job(&args, url),
            None => client(&args, None),
        }
    };
    let remote_run = small(Some(&server.url), &out);
    assert!(remote_run.status.success(), "{}", text(&remote_run.stderr));
    let local_out = dir.join("small-local");
    assert!(small(None, &local_out).status.success());
    assert_eq!(
        std::fs::read(out.join("network.json")).unwrap(),
        std::fs::read(local_out.join("network.json")).unwrap()
    );
}

#[test]
fn the_gate_answers_a_status_query_with_its_limits_and_heap() {
    let dir = scratch("status");
    let server = serve_with(&["--max-clients", "3"], &dir);
    remote::set_token(Some(TOKEN.into()));
    let status = remote::server_status(&server.url).expect("the gate answers");
    assert_eq!(status.max_clients, 3);
    assert_eq!(status.clients, 0);
    assert_eq!(status.max_memory, None);
    // The served binary counts its heap, and tells it to a holder of the token.
    assert!(status.heap_bytes.is_some_and(|b| b > 0), "{status:?}");
    // A stranger is told the places and nothing else.
    let (head, body) = http(&server.url, "GET /backprop/status HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        body,
        r#"{"max_clients":3,"clients":0,"max_memory":null,"heap_bytes":null}"#
    );
}

/// Sends `request` to the server at `url` and reads to the end: the
/// response's head and body.
fn http(url: &str, request: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("ws://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = text(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

/// A WebSocket upgrade to `path`, as burn's client sends it.
fn upgrade(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
    )
}

/// Reads until `stream` closes or `limit` passes: what came, and whether it
/// closed.
fn read_until_closed(stream: &mut std::net::TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    use std::io::Read;
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return (seen, true),
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (seen, true),
            Err(_) => return (seen, false),
        }
    }
}

#[test]
fn a_ping_before_the_token_opens_no_session_and_a_gigabyte_frame_after_it_is_refused() {
    use std::io::{Read, Write};
    let dir = scratch("ping");
    let server = serve_with(&["--max-clients", "3", "--handshake-timeout", "2"], &dir);
    remote::set_token(Some(TOKEN.into()));
    let heap = || served_heap(&server.url);
    let before = heap();
    let address = server.url.trim_start_matches("ws://").to_string();
    // Three such connections at once, which once locked every client out.
    let mut attackers: Vec<_> = (0..3)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&address).unwrap();
            s.write_all(upgrade("/session").as_bytes()).unwrap();
            // A masked Ping with no payload.
            s.write_all(&[0x89, 0x80, 1, 2, 3, 4]).unwrap();
            s
        })
        .collect();
    let mut answer = [0u8; 512];
    let n = attackers[0].read(&mut answer).unwrap();
    let answer = text(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    // The Pong changes nothing: no client is counted.
    assert_eq!(remote::server_status(&server.url).unwrap().clients, 0);
    // A frame announcing 1 GiB next (well within the deadline) is refused at
    // its header.
    let mut header = vec![0x82, 0xff];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    attackers[0].write_all(&header).unwrap();
    let (_, closed) = read_until_closed(&mut attackers[0], Duration::from_secs(5));
    assert!(closed, "the gate held a 1 GiB frame open");
    assert!(heap() < before + (16 << 20), "{before} → {}", heap());
    // The right token is served while the others still hold on.
    let check = remote_job(&["check", "--examples", "5"], &server.url);
    assert!(check.status.success(), "{}", text(&check.stderr));
    // The others are closed at the deadline.
    for attacker in &mut attackers[1..] {
        let (_, closed) = read_until_closed(attacker, Duration::from_secs(6));
        assert!(
            closed,
            "a connection that only pinged outlived the deadline"
        );
    }
    let log = server.log_when(|l| l.contains("no complete handshake within 2 s"));
    assert!(
        log.contains("announced a frame of 1073741824 bytes"),
        "{log}"
    );
    assert!(log.contains("no complete handshake within 2 s"), "{log}");
}

#[test]
fn only_the_session_route_is_relayed_and_burns_server_admits_only_the_gate() {
    use std::io::Write;
    let dir = scratch("routes");
    let server = serve_with(&[], &dir);
    // burn's server-to-server route, then garbage: the gate answers 404.
    let mut data = std::net::TcpStream::connect(server.url.trim_start_matches("ws://")).unwrap();
    data.write_all(upgrade("/data").as_bytes()).unwrap();
    let _ = data.write_all(&[0x82, 0x85, 0, 0, 0, 0, 1, 2, 3, 4, 5]);
    let (seen, closed) = read_until_closed(&mut data, Duration::from_secs(5));
    assert!(
        closed && text(&seen).starts_with("HTTP/1.1 404"),
        "{}",
        text(&seen)
    );
    for path in ["/", "/session/x", "/backprop"] {
        let (head, _) = http(&server.url, &upgrade(path));
        assert!(head.starts_with("HTTP/1.1 404"), "{path}: {head}");
    }
    // A plain request for a session is told what is expected.
    let (head, _) = http(&server.url, "GET /session HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    // Dialled directly, around the gate, burn's server refuses the clients'
    // token: it admits only the secret the gate presents.
    let log = server.log_when(|l| l.contains("behind the gate"));
    let inner = log
        .lines()
        .find(|l| l.contains("behind the gate"))
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("127.0.0.1:")))
        .unwrap_or_else(|| panic!("no inner address in {log}"));
    let direct = remote_job(&["check", "--examples", "5"], &format!("ws://{inner}"));
    assert_eq!(direct.status.code(), Some(2));
    assert!(
        text(&direct.stderr).contains("refused this client's token"),
        "{}",
        text(&direct.stderr)
    );
    // Through the gate, the same token is served.
    let check = remote_job(&["check", "--examples", "5"], &server.url);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let log = server.log_when(|l| l.contains("admitted"));
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn twelve_clients_against_three_places_are_each_served_exactly_or_told_why() {
    let dir = scratch("twelve");
    let server = serve_with(&["--max-clients", "3"], &dir);
    let train = |out: &Path, remote: bool| {
        let mut command = Command::new(backprop());
        command
            .args(["train", "--epochs", "30", "--quiet", "--out"])
            .arg(out)
            .env_remove(remote::TOKEN_VARIABLE)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if remote {
            command
                .args(["--backend", "remote", "--remote", &server.url])
                .env(remote::TOKEN_VARIABLE, TOKEN);
        }
        command.spawn().unwrap()
    };
    let local = dir.join("local");
    assert!(train(&local, false).wait().unwrap().success());
    let expected = std::fs::read(local.join("network.json")).unwrap();
    let clients: Vec<_> = (0..12)
        .map(|i| {
            let out = dir.join(format!("client-{i}"));
            (train(&out, true), out)
        })
        .collect();
    let (mut served, mut refused) = (0, 0);
    for (child, out) in clients {
        let done = child.wait_with_output().unwrap();
        let message = text(&done.stderr);
        if done.status.success() {
            assert_eq!(
                std::fs::read(out.join("network.json")).unwrap(),
                expected,
                "a served client's model differs from local flex's"
            );
            served += 1;
        } else {
            assert!(
                message.contains("serving its limit of 3 clients"),
                "a client was cut without the reason: {message}"
            );
            refused += 1;
        }
    }
    // Twelve at once against three places: some must have been turned away
    // (each with the reason, checked above), at least three served.
    assert!(
        served >= 3 && refused >= 1,
        "{served} served, {refused} refused"
    );
    let log = server.log_when(|l| l.matches(" ended after ").count() >= served);
    assert!(!log.contains("(4 of 3 clients)"), "{log}");
    assert_eq!(remote::server_status(&server.url).unwrap().clients, 0);
}

/// The heap of the server at `url`, which its status tells a holder of its
/// token.
fn served_heap(url: &str) -> usize {
    remote::set_token(Some(TOKEN.into()));
    remote::server_status(url).unwrap().heap_bytes.unwrap()
}

/// A `check` against `url` with a token that is not the server's.
fn wrong_token_check(url: &str) -> Output {
    client(
        &[
            "check",
            "--examples",
            "5",
            "--backend",
            "remote",
            "--remote",
            url,
        ],
        Some("a-wrong-token-of-a-client"),
    )
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // After the command's closing parenthesis: state, then parent.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .count()
}

#[test]
fn before_the_token_no_session_process_is_started() {
    use std::io::Write;
    let dir = scratch("preauth-processes");
    let server = serve_with(&["--max-memory", "256M", "--handshake-timeout", "3"], &dir);
    let address = server.url.trim_start_matches("ws://").to_string();
    // Twelve connections that upgrade and never present a token, and three
    // clients that present a wrong one.
    let mut held: Vec<_> = (0..12)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&address).unwrap();
            s.write_all(upgrade("/session").as_bytes()).unwrap();
            s
        })
        .collect();
    for _ in 0..3 {
        let wrong = wrong_token_check(&server.url);
        assert!(
            text(&wrong.stderr).contains("refused this client's token"),
            "{}",
            text(&wrong.stderr)
        );
    }
    assert_eq!(
        children(server.child.id()),
        0,
        "a process started before the token"
    );
    held.clear();
    // The right token starts one, which serves exactly.
    let check = remote_job(&["check", "--examples", "5"], &server.url);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let log = server.log_when(|l| l.contains(" ended after "));
    assert_eq!(log.matches("opened (1 of 32 clients)").count(), 1, "{log}");
}

#[test]
fn wrong_tokens_from_one_address_are_slowed_down_and_logged_once() {
    let dir = scratch("strikes");
    let server = serve_with(&[], &dir);
    let wrong = || wrong_token_check(&server.url);
    for _ in 0..4 {
        let refused = wrong();
        assert!(
            text(&refused.stderr).contains("refused this client's token"),
            "{}",
            text(&refused.stderr)
        );
    }
    // Now the door is shut for a second, then two, …: a client arriving
    // while it is shut is told so, its token not even read.
    let waiting = wrong();
    assert!(
        text(&waiting.stderr).contains("too many wrong tokens from 127.0.0.1: try again in"),
        "{}",
        text(&waiting.stderr)
    );
    let log = server.log_when(|l| l.contains("wrong tokens in a row"));
    assert_eq!(log.matches("wrong tokens in a row").count(), 1, "{log}");
    assert_eq!(log.matches("presented the wrong token").count(), 4, "{log}");
    // Once the wait is over, the right token is served (and forgives).
    let start = Instant::now();
    while http(&server.url, "GET /session HTTP/1.1\r\n\r\n")
        .0
        .starts_with("HTTP/1.1 503")
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the door stayed shut"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let right = remote_job(&["check", "--examples", "5"], &server.url);
    assert!(right.status.success(), "{}", text(&right.stderr));
}

#[test]
fn serve_refuses_a_short_token_and_says_how_to_make_one() {
    let dir = scratch("short-token");
    let file = dir.join("token");
    std::fs::write(&file, "t\n").unwrap();
    let out = Command::new(backprop())
        .args(["serve", "--listen", "127.0.0.1:0", "--token-file"])
        .arg(&file)
        .env_remove(remote::TOKEN_VARIABLE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out.stderr);
    assert!(
        message.contains("at least 16 bytes") && message.contains("openssl rand -hex 32"),
        "{message}"
    );
}

#[test]
fn an_idle_session_is_ended_at_its_idle_timeout_and_frees_its_place() {
    let dir = scratch("idle");
    let server = serve_with(&["--idle-timeout", "1", "--max-clients", "1"], &dir);
    remote::set_token(Some(TOKEN.into()));
    // A session opened and left silent.
    let device = remote::connect(&server.url).expect("the session opens");
    drop(device);
    server.log_when(|l| l.contains("opened (1 of 1 clients)"));
    let log = server.log_when(|l| l.contains("idle for 1 s"));
    assert!(log.contains("idle for 1 s"), "{log}");
    assert_eq!(remote::server_status(&server.url).unwrap().clients, 0);
    let check = remote_job(&["check", "--examples", "5"], &server.url);
    assert!(check.status.success(), "{}", text(&check.stderr));
}
