use event_server::cli::{parse_args, Cli, HELP};
use std::io::Write;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cfg = match parse_args(std::env::args().skip(1)) {
        Ok(Cli::Run(cfg)) => cfg,
        Ok(Cli::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("event-server: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match event_server::start(cfg.clone()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "event-server: cannot listen on {}:{}: {e}",
                cfg.host, cfg.port
            );
            return ExitCode::FAILURE;
        }
    };
    let token = match server.token("demo") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("event-server: cannot sign a token: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Listening before the ready line: a supervisor (or a test) may send SIGTERM as soon as it
    // reads it, and a signal that arrives before the listener is installed kills the process
    // instead of shutting it down.
    let signalled = shutdown_signal();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "event-server listening on {}", server.http_url());
        let _ = writeln!(out, "dev token (instance \"demo\"): {token}");
        let _ = out.flush();
    }
    signalled.await;
    server.shutdown();
    ExitCode::SUCCESS
}

/// SIGTERM or SIGINT (Ctrl-C), listened for from this call on; the future resolves on the first.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        let next = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = next(term) => {}
            _ = next(int) => {}
        }
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
