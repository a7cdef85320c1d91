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
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "event-server listening on {}", server.http_url());
        let _ = writeln!(out, "dev token (instance \"demo\"): {token}");
        let _ = out.flush();
    }
    wait_for_signal().await;
    server.shutdown();
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
