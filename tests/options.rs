//! Options: defaults, layering and validation, natively.
#![cfg(not(target_arch = "wasm32"))]

use event_socket::options::*;

fn with_url() -> PartialOptions<()> {
    PartialOptions {
        url: Some("ws://h/ws/events".into()),
        ..Default::default()
    }
}

/// The default column of the README's options table, by option name.
fn readme_defaults() -> Vec<(String, String)> {
    let readme = include_str!("../README.md");
    let table = readme
        .split("### Options")
        .nth(1)
        .expect("the README has an Options section");
    table
        .lines()
        .skip_while(|l| !l.starts_with("| option |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|row| {
            let cells: Vec<&str> = row.split(" | ").collect();
            let name = cells.first()?.trim_start_matches("| ").trim_matches('`');
            Some((name.to_string(), cells.get(2)?.trim().to_string()))
        })
        .collect()
}

/// The defaults are the documented numbers themselves, and the README's table says the same:
/// changing a default in src/ or in the README alone fails here.
#[test]
fn defaults_are_the_documented_ones() {
    let o = with_url().resolve().unwrap();
    let c = &o.config;
    let documented = readme_defaults();
    let doc = |name: &str| {
        documented
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
            .unwrap_or_else(|| panic!("no `{name}` row in the README's options table"))
    };
    let cases: [(&str, String, &str); 13] = [
        ("token", format!("{:?}", o.token), "`\"\"`"),
        ("reconnectInterval", c.backoff.initial.to_string(), "1000"),
        ("maxReconnectInterval", c.backoff.max.to_string(), "30000"),
        ("backoffFactor", c.backoff.factor.to_string(), "2"),
        ("jitter", c.backoff.jitter.to_string(), "0.5"),
        ("maxRetries", format!("{:?}", c.max_retries), "Infinity"),
        ("minUptime", c.min_uptime.to_string(), "5000"),
        (
            "connectTimeout",
            format!("{:?}", c.connect_timeout),
            "10000",
        ),
        ("heartbeat", format!("{:?}", c.heartbeat), "null"),
        ("queueLimit", c.queue_limit.to_string(), "1000"),
        ("parse", format!("{:?}", o.parse), "`\"json\"`"),
        (
            "binaryType",
            format!("{:?}", o.binary_type),
            "`\"arraybuffer\"`",
        ),
        ("share", format!("{:?}", o.share), "true"),
    ];
    let code = [
        "Static(\"\")",
        "1000",
        "30000",
        "2",
        "0.5",
        "None",
        "5000",
        "Some(10000.0)",
        "None",
        "1000",
        "Json",
        "ArrayBuffer",
        "Tabs",
    ];
    for ((name, got, readme), want) in cases.iter().zip(code) {
        assert_eq!(got, want, "the default of `{name}` in src/");
        assert_eq!(doc(name), *readme, "the README's default for `{name}`");
    }
    assert!(!o.debug, "debug is off by default");
    assert_eq!(doc("debug"), "false");
    assert_eq!(o.params, Vec::<(String, String)>::new());
    assert_eq!(doc("params"), "`{}`");
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

/// Every option of the README's table has its method on the Rust builder (`SocketBuilder`): the
/// two APIs cannot drift apart silently.
#[test]
fn every_documented_option_has_a_rust_builder_method() {
    let readme = include_str!("../README.md");
    let rust_api = include_str!("../src/rust_api.rs");
    let table = readme
        .split("### Options")
        .nth(1)
        .expect("an Options section");
    let names: Vec<String> = table
        .lines()
        .skip_while(|l| !l.starts_with("| option |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|row| row.split(" | ").next())
        .flat_map(|cell| cell.trim_start_matches("| ").split(", "))
        .map(|name| name.trim_matches('`').to_string())
        .collect();
    assert!(names.len() >= 20, "{names:?}");
    let snake = |name: &str| {
        let mut out = String::new();
        for c in name.chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    };
    for name in &names {
        let methods: Vec<String> = match name.as_str() {
            "url" => vec!["builder".into()],
            "parse" => vec!["parse_text".into()],
            "token" => vec!["token".into(), "token_fn".into(), "token_async".into()],
            other => vec![snake(other)],
        };
        for method in methods {
            assert!(
                rust_api.contains(&format!("pub fn {method}("))
                    || rust_api.contains(&format!("pub fn {method}<")),
                "the README's option `{name}` has no SocketBuilder::{method}"
            );
        }
    }
}
