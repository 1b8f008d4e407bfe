//! The real `aidlc` binary in a test's project folder: a command with the caller's store and
//! prediction-log settings cleared, a command that must succeed, and a server on port 0.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `aidlc` in `dir`, with the settings a developer's environment could carry in removed.
pub fn aidlc(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aidlc"));
    c.current_dir(dir)
        .env_remove("AIDLC_STORE")
        .env_remove("AIDLC_ARTIFACTS")
        .env_remove("AIDLC_PROJECT")
        .env_remove("AIDLC_PREDICTION_LOG");
    c
}

/// Runs `aidlc ARGS` in `dir`, fails the test if it fails, and answers its standard output.
pub fn run(dir: &Path, args: &[&str]) -> String {
    let o = aidlc(dir).args(args).output().expect("aidlc runs");
    assert!(
        o.status.success(),
        "aidlc {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Starts `aidlc server` on port 0 and reads the ready line for its address.
pub fn start(dir: &Path) -> (Child, String) {
    let mut child = aidlc(dir)
        .args(["server", "--bind", "127.0.0.1:0", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start aidlc server");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .expect("ready line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .filter(|a| a.contains(':'))
        .unwrap_or_else(|| panic!("unexpected ready line `{line}`"))
        .to_string();
    (child, addr)
}
