//! `backprop`: train, inspect and verify networks with hand-written gradients.
//!
//! The whole command line lives in the library (`manual_backprop::app`, feature
//! `cli`); this binary installs only what a binary alone can: the signal
//! dispositions of a command-line tool and the counting allocator behind
//! `backprop bench`'s memory columns.
//! Run `cargo run --release --example backprop -- --help`.

use manual_backprop::app::{self, bench::CountingAllocator};
use std::process::ExitCode;

/// Counts heap bytes so that `bench` can report a step's peak.
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
    app::main()
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
