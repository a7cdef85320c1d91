//! The binary: `--help`, the ready lines on stdout, and a prompt exit on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_event-server");

#[test]
fn help_exits_zero() {
    let out = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--port",
        "--host",
        "--secret",
        "--simulate",
        "--simulate-every",
        "--on-duplicate",
        "--static",
    ] {
        assert!(text.contains(flag), "help mentions {flag}");
    }
    let out = Command::new(BIN).arg("--nope").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn prints_ready_lines_and_serves() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--simulate", "a,b"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let second = lines.next().expect("a line").expect("utf-8");
    let addr = first
        .strip_prefix("event-server listening on http://")
        .unwrap_or_else(|| panic!("ready line: {first:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"));
    let port: u16 = addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert_ne!(port, 0);
    let token = second
        .strip_prefix("dev token (instance \"demo\"): ")
        .unwrap_or_else(|| panic!("token line: {second:?}"));
    assert_eq!(token.split('.').count(), 3);

    let mut s = TcpStream::connect(&addr).expect("connects");
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");

    // SIGTERM: exits promptly. Sent from here, not by running `kill`: a fresh machine may not
    // have procps.
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    assert_eq!(
        unsafe { libc::kill(pid, libc::SIGTERM) },
        0,
        "kill(SIGTERM)"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            assert!(st.success(), "exit status {st}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not exit on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
