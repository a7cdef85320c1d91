//! Command-line parsing (by hand: the flag set is small).

use std::path::PathBuf;
use std::time::Duration;

/// The default HMAC secret for development tokens.
pub const DEFAULT_SECRET: &str = "event-socket-dev-secret";
/// The default listening port.
pub const DEFAULT_PORT: u16 = 8084;
/// The default listening host.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// The usage text printed by `--help`.
pub const HELP: &str = "\
event-server: reference CodeChat-style event WebSocket server (for the event-socket demo and tests)

USAGE:
    event-server [OPTIONS]

OPTIONS:
    --port N                  port to listen on (default 8084; 0 = any free port)
    --host H                  address to listen on (default 127.0.0.1)
    --secret S                HS256 secret for tokens (default \"event-socket-dev-secret\")
    --jwt-expires-in SECS     lifetime of the tokens it issues, as CodeChat's
                              AUTHENTICATION_JWT_EXPIRES_IN (default 3600); 0 = never: tokens
                              carry exp == iat and expiry is not checked, as CodeChat does
    --simulate INSTANCE       run the periodic simulator for INSTANCE (repeatable, or a comma list)
    --simulate-every MS       simulator period in milliseconds (default 3000)
    --on-duplicate MODE       replace (default: the newer socket for an instance+event becomes the
                              current one, the older one is starved but left open) or close-old
                              (the older one is closed with code 4001)
    --static DIR              also serve the files in DIR (e.g. the built demo page, `dist/`) for
                              every path no endpoint claims, so page and sockets share one origin
    -h, --help                print this help

On start it prints `event-server listening on http://HOST:PORT` and then
`dev token (instance \"demo\"): <jwt>`.

ENDPOINTS:
    GET  /ws/events?event=E&token=T     event WebSocket (401 before the handshake if refused)
    GET  /echo                          echo WebSocket (text and binary)
    POST /events/{instance}/{event}     deliver the JSON body (?raw=text|binary: verbatim frame)
    GET  /dev/token?instance=NAME[&exp_secs=N]   a token (N overrides --jwt-expires-in)
    PUT  /instance/refreshToken/{instance}      body {\"oldToken\": T}: 201 {\"token\": new}, as
                                                CodeChat (T may have expired; only the latest
                                                token of its instance is refreshed)
    POST /control/simulate/{instance}   emit connection.update, qrcode.updated, messages.upsert
    GET  /control/stats
    POST /control/drop?mode=abrupt|close&code=N&reason=R&target=all|events|echo
    POST /control/refuse?ms=N
    POST /control/stall?ms=N
    POST /control/restart?down_ms=N
    POST /control/reset
    GET  /health
    GET  /*                             files from --static DIR (index.html for directories)
";

/// What to do when a second socket arrives for the same instance+event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnDuplicate {
    /// The newer socket becomes the current one; the older one receives nothing more but stays open.
    #[default]
    Replace,
    /// The older socket is closed with code 4001.
    CloseOld,
}

/// Server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub secret: String,
    pub simulate: Vec<String>,
    pub simulate_every: Duration,
    pub on_duplicate: OnDuplicate,
    /// A directory served for every path no endpoint claims (`--static DIR`).
    pub static_dir: Option<PathBuf>,
    /// Seconds the tokens it issues live; 0: never (`exp == iat`, expiry not checked).
    pub jwt_expires_in: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: DEFAULT_HOST.to_string(),
            port: DEFAULT_PORT,
            secret: DEFAULT_SECRET.to_string(),
            simulate: Vec::new(),
            simulate_every: Duration::from_millis(3000),
            on_duplicate: OnDuplicate::Replace,
            static_dir: None,
            jwt_expires_in: 3600,
        }
    }
}

impl Config {
    /// A configuration for tests: 127.0.0.1, any free port, defaults otherwise.
    pub fn ephemeral() -> Self {
        Config {
            port: 0,
            ..Config::default()
        }
    }
}

/// The outcome of parsing the command line.
#[derive(Debug)]
pub enum Cli {
    Run(Config),
    Help,
}

/// Parses the arguments (without the program name). Accepts `--flag value` and `--flag=value`.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Cli, String> {
    let mut cfg = Config::default();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(Cli::Help);
        }
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "--port" => {
                let v = value("--port")?;
                cfg.port = v
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {v:?}"))?;
            }
            "--host" => cfg.host = value("--host")?,
            "--secret" => {
                let v = value("--secret")?;
                if v.is_empty() {
                    return Err("--secret must not be empty".into());
                }
                cfg.secret = v;
            }
            "--simulate" => {
                let v = value("--simulate")?;
                for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if !cfg.simulate.iter().any(|n| n == name) {
                        cfg.simulate.push(name.to_string());
                    }
                }
            }
            "--simulate-every" => {
                let v = value("--simulate-every")?;
                let ms: u64 = v
                    .parse()
                    .map_err(|_| format!("--simulate-every: not a number of ms: {v:?}"))?;
                if ms == 0 {
                    return Err("--simulate-every must be at least 1 ms".into());
                }
                cfg.simulate_every = Duration::from_millis(ms);
            }
            "--on-duplicate" => {
                let v = value("--on-duplicate")?;
                cfg.on_duplicate = match v.as_str() {
                    "replace" => OnDuplicate::Replace,
                    "close-old" => OnDuplicate::CloseOld,
                    _ => {
                        return Err(format!(
                            "--on-duplicate: expected replace or close-old, got {v:?}"
                        ))
                    }
                };
            }
            "--jwt-expires-in" => {
                let v = value("--jwt-expires-in")?;
                cfg.jwt_expires_in = v
                    .parse()
                    .map_err(|_| format!("--jwt-expires-in: not a number of seconds: {v:?}"))?;
            }
            "--static" => {
                let v = value("--static")?;
                if v.is_empty() {
                    return Err("--static needs a directory".into());
                }
                let dir = PathBuf::from(&v);
                if !dir.is_dir() {
                    return Err(format!("--static: not a directory: {v:?}"));
                }
                cfg.static_dir = Some(dir);
            }
            _ => return Err(format!("unknown argument: {arg:?} (try --help)")),
        }
    }
    Ok(Cli::Run(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults() {
        let Ok(Cli::Run(cfg)) = parse(&[]) else {
            panic!("expected run");
        };
        assert_eq!(cfg.port, 8084);
        assert_eq!(cfg.host, "127.0.0.1");
        assert_eq!(cfg.secret, DEFAULT_SECRET);
        assert_eq!(cfg.on_duplicate, OnDuplicate::Replace);
        assert_eq!(cfg.simulate_every, Duration::from_millis(3000));
    }

    #[test]
    fn flags() {
        let Ok(Cli::Run(cfg)) = parse(&[
            "--port",
            "0",
            "--host=0.0.0.0",
            "--secret",
            "s",
            "--simulate",
            "a,b",
            "--simulate=c",
            "--simulate-every",
            "100",
            "--on-duplicate",
            "close-old",
        ]) else {
            panic!("expected run");
        };
        assert_eq!(cfg.port, 0);
        assert_eq!(cfg.host, "0.0.0.0");
        assert_eq!(cfg.secret, "s");
        assert_eq!(cfg.simulate, vec!["a", "b", "c"]);
        assert_eq!(cfg.simulate_every, Duration::from_millis(100));
        assert_eq!(cfg.on_duplicate, OnDuplicate::CloseOld);
    }

    #[test]
    fn help_and_errors() {
        assert!(matches!(parse(&["--help"]), Ok(Cli::Help)));
        assert!(parse(&["--port", "x", "-h"]).is_err());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--on-duplicate", "nope"]).is_err());
    }

    #[test]
    fn static_dir() {
        let Ok(Cli::Run(cfg)) = parse(&[]) else {
            panic!("expected run");
        };
        assert_eq!(cfg.static_dir, None);
        let dir = std::env::temp_dir();
        let arg = format!("--static={}", dir.display());
        let Ok(Cli::Run(cfg)) = parse(&[&arg]) else {
            panic!("expected run");
        };
        assert_eq!(cfg.static_dir, Some(dir));
        assert!(parse(&["--static"]).is_err());
        assert!(parse(&["--static", ""]).is_err());
        assert!(parse(&["--static", "/no/such/dir/for/event-server"]).is_err());
    }
}
