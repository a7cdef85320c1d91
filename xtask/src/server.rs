//! The event server: built, started on a free port, stopped when its guard is dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::{run, show, Ctx, Result};

const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running child process, killed (and reaped) when dropped.
pub struct Server {
    name: &'static str,
    pub child: Child,
    /// host:port from the server's first line.
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            println!("== stopped {} (pid {})", self.name, self.child.id());
        }
    }
}

/// Starts `event-server` with `args`, waits for its `listening on http://HOST:PORT` line and keeps
/// echoing its stdout (prefixed) from a thread.
pub fn start_server(bin: &Path, args: &[&str]) -> Result<Server> {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    println!("$ {}", show(&cmd));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            println!("[event-server] {line}");
            if let Some(tx) = tx.take() {
                let _ = tx.send(line);
            }
        }
    });
    // From here on the guard owns the child: any early return kills it.
    let mut server = Server {
        name: "event-server",
        child,
        addr: String::new(),
    };
    let first = match rx.recv_timeout(SERVER_START_TIMEOUT) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            return Err(format!(
                "event-server printed no line within {}s",
                SERVER_START_TIMEOUT.as_secs()
            ))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = server
                .child
                .wait()
                .map(|s| s.to_string())
                .unwrap_or_default();
            return Err(format!(
                "event-server exited before printing its address ({status})"
            ));
        }
    };
    server.addr = listening_addr(&first)
        .ok_or_else(|| format!("unexpected first line from event-server: {first:?}"))?;
    Ok(server)
}

/// `event-server listening on http://HOST:PORT` -> `HOST:PORT`
pub fn listening_addr(line: &str) -> Option<String> {
    let rest = line
        .trim()
        .strip_prefix("event-server listening on http://")?;
    let addr = rest.trim_end_matches('/');
    let (host, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok().filter(|p| *p != 0)?;
    (!host.is_empty()).then(|| addr.to_string())
}

pub fn build_server(ctx: &Ctx) -> Result<PathBuf> {
    run(ctx.cargo().args(["build", "-p", "event-server"]))?;
    let bin = ctx.server_bin();
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "built event-server, but {} is missing",
            bin.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_address_from_the_servers_first_line() {
        let addr = listening_addr("event-server listening on http://127.0.0.1:40123\n");
        assert_eq!(addr.as_deref(), Some("127.0.0.1:40123"));
        assert_eq!(
            listening_addr("event-server listening on http://[::1]:8084/").as_deref(),
            Some("[::1]:8084")
        );
        assert_eq!(
            listening_addr("event-server listening on http://127.0.0.1:0"),
            None
        );
        assert_eq!(listening_addr("starting up"), None);
    }
}
