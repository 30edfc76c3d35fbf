//! `backprop`: train, inspect and verify networks with hand-written gradients.
//!
//! The whole command line lives in the library (`manual_backprop::app`, feature
//! `cli`); this binary installs only what a binary alone can: the signal
//! dispositions of a command-line tool, glibc's settings for freed memory,
//! and the counting allocator behind `backprop bench`'s memory columns.
//! Run `cargo run --release --example backprop -- --help`.

use manual_backprop::app;
use manual_backprop::heap::CountingAllocator;
use std::process::ExitCode;

/// Counts heap bytes, so that `bench` can report a step's peak and a served
/// session can run under `serve --max-memory`.
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`backprop … | head`), as command-line tools do,
    // instead of panicking inside println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    #[cfg(all(unix, feature = "wgpu"))]
    quiet_mesa();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    keep_freed_buffers();
    app::main()
}

/// Lets glibc keep freed tensor buffers for the next step instead of handing
/// them back to the kernel.
///
/// By default glibc serves a block of 128 KiB or more (raised up to 32 MiB as
/// blocks are freed) with its own `mmap`, and returns the heap's free top to the
/// kernel once it exceeds twice that. A training step frees and reallocates
/// the same weight-sized buffers every time (product outputs, λW, the updated
/// weights: 4 or 8 MiB each on the wide bench shape), so each of them came back
/// as fresh pages that the kernel zeroes on first touch: 10 % of a tch wide
/// step was page faults. Serving every block under 32 MiB from the heap and
/// keeping up to 1 GiB of free heap: a loop of wide f64 steps 64 → 46 ms a
/// step on flex and 33 → 25 ms on tch (docs/performance.md). The process keeps the memory of
/// its peak step, which it needs again at the next one. A library leaves such
/// process-wide settings to the binary; `bench-peers.sh` gives the Python peers
/// the same two settings through glibc's environment variables.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_buffers() {
    // SAFETY: mallopt only changes allocator parameters and is called before
    // any other thread starts; a rejected value leaves glibc's default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set"
/// several times when that variable is unset (under CI, cron, `sudo`), which
/// reads like our own errors; a private directory silences them.
#[cfg(all(unix, feature = "wgpu"))]
fn quiet_mesa() {
    use std::os::unix::fs::DirBuilderExt;
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("backprop-runtime-{uid}"));
    let made = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    if made.is_ok() || dir.is_dir() {
        // SAFETY: called first thing in main, before any thread is started.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}
