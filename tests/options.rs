//! Options: defaults, layering and validation, natively.
#![cfg(not(target_arch = "wasm32"))]

use event_socket::machine::Config;
use event_socket::options::*;

fn with_url() -> PartialOptions<()> {
    PartialOptions {
        url: Some("ws://h/ws/events".into()),
        ..Default::default()
    }
}

#[test]
fn defaults_match_the_options_table() {
    let o = with_url().resolve().unwrap();
    assert_eq!(o.config, Config::default());
    assert_eq!(o.token, Token::Static(String::new()));
    assert!(o.share);
    assert_eq!(o.parse, ParseMode::Json);
    assert_eq!(o.binary_type, BinaryType::ArrayBuffer);
}

#[test]
fn per_socket_options_override_configure() {
    let base = PartialOptions {
        token: Some(Token::Static("a".into())),
        reconnect_interval: Some(3000.0),
        ..with_url()
    };
    let over = PartialOptions {
        reconnect_interval: Some(10.0),
        ..Default::default()
    };
    let o = base.merged_with(&over).resolve().unwrap();
    assert_eq!(o.config.backoff.initial, 10.0);
    assert_eq!(o.token, Token::Static("a".into()));
    assert_eq!(o.url, "ws://h/ws/events");
}

#[test]
fn every_bad_value_names_its_option() {
    let cases: Vec<(PartialOptions<()>, &str)> = vec![
        (PartialOptions::default(), "url"),
        (
            PartialOptions {
                reconnect_interval: Some(-1.0),
                ..with_url()
            },
            "reconnectInterval",
        ),
        (
            PartialOptions {
                reconnect_interval: Some(f64::NAN),
                ..with_url()
            },
            "reconnectInterval",
        ),
        (
            PartialOptions {
                backoff_factor: Some(0.5),
                ..with_url()
            },
            "backoffFactor",
        ),
        (
            PartialOptions {
                jitter: Some(1.5),
                ..with_url()
            },
            "jitter",
        ),
        (
            PartialOptions {
                max_retries: Some(1.5),
                ..with_url()
            },
            "maxRetries",
        ),
        (
            PartialOptions {
                queue_limit: Some(-3.0),
                ..with_url()
            },
            "queueLimit",
        ),
        (
            PartialOptions {
                min_uptime: Some(-3.0),
                ..with_url()
            },
            "minUptime",
        ),
        (
            PartialOptions {
                heartbeat: Some(Some(HeartbeatSpec {
                    interval: 0.0,
                    timeout: 1.0,
                    message: "p".into(),
                })),
                ..with_url()
            },
            "heartbeat",
        ),
    ];
    for (o, field) in cases {
        let e = o.resolve().unwrap_err();
        assert_eq!(e.field, field);
        assert!(e.to_string().contains(field), "{e}");
    }
}

#[test]
fn numbers_print_as_javascript_writes_them() {
    assert_eq!(num(3000.0), "3000");
    assert_eq!(num(-1.0), "-1");
    assert_eq!(num(0.5), "0.5");
    assert_eq!(num(1.25), "1.25");
    assert_eq!(num(0.05), "0.05");
    assert_eq!(num(2.007), "2.007");
    assert_eq!(num(0.1), "0.1");
    assert_eq!(num(7.0004), "7.0004");
    assert_eq!(num(1000.0000000001), "1000.0000000001");
    assert_eq!(num(f64::NAN), "NaN");
    assert_eq!(num(f64::INFINITY), "Infinity");
}

#[test]
fn infinity_means_unbounded() {
    let o = PartialOptions {
        max_retries: Some(f64::INFINITY),
        connect_timeout: Some(f64::INFINITY),
        ..with_url()
    }
    .resolve()
    .unwrap();
    assert_eq!(o.config.max_retries, None);
    assert_eq!(o.config.connect_timeout, None);
}

#[test]
fn configure_checks_everything_but_the_url() {
    // configure() may leave the URL to each socket(), but a bad number fails at once.
    let no_url: PartialOptions<()> = PartialOptions {
        reconnect_interval: Some(10.0),
        ..Default::default()
    };
    assert_eq!(no_url.check(), Ok(()));
    assert_eq!(no_url.resolve().unwrap_err().field, "url");
    let bad = PartialOptions::<()> {
        jitter: Some(2.0),
        ..Default::default()
    };
    assert_eq!(bad.check().unwrap_err().field, "jitter");
}

#[test]
fn params_may_not_set_event_or_token() {
    for key in ["event", "token"] {
        let o = PartialOptions::<()> {
            params: Some(vec![("a".into(), "1".into()), (key.into(), "x".into())]),
            ..with_url()
        };
        let e = o.resolve().unwrap_err();
        assert_eq!(e.field, "params");
        assert!(e.message().contains(&format!("`{key}`")), "{e}");
    }
    let fine = PartialOptions::<()> {
        params: Some(vec![("events".into(), "1".into())]),
        ..with_url()
    };
    assert!(fine.resolve().is_ok());
}
