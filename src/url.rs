//! Building the connection URL, in plain Rust so that every encoding rule is tested natively.
//!
//! The CodeChat server reads `event` and `token` from the query string; the classic client encodes
//! them with `encodeURIComponent`, so we encode byte for byte the same way: a server that decodes what
//! that client sends decodes what we send.

use std::fmt;

/// Why a URL cannot be used for a WebSocket; the message names the problem for a `TypeError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Empty or only whitespace.
    Empty,
    /// `http:`, `ftp:` … : only `ws:`/`wss:` or a path are accepted.
    Scheme(String),
    /// A relative URL but no page location to resolve it against (e.g. in a worker without location).
    NoBase(String),
    /// Nothing after `ws://`.
    NoHost(String),
    /// The query already has `event` or `token`: the client adds both, and a server that reads
    /// the first of two would silently serve another stream (or see another token).
    Reserved(&'static str),
}

impl UrlError {
    /// The explanation for the `TypeError`, quoting the URL.
    pub fn message(&self) -> String {
        match self {
            UrlError::Empty => "url is empty".into(),
            UrlError::Scheme(u) => format!("url \"{u}\" is not a WebSocket URL: use ws://, wss:// or a page-relative path"),
            UrlError::NoBase(u) => format!("url \"{u}\" is relative but there is no page location to resolve it against"),
            UrlError::NoHost(u) => format!("url \"{u}\" has no host"),
            UrlError::Reserved("token") => "url already has a `token` query parameter: pass the \
                token with the `token` option (kept out of logs and errors) and remove it from the url"
                .into(),
            UrlError::Reserved(key) => format!("url already has an `{key}` query parameter: the event comes from socket()'s eventName; remove it from the url"),
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Encodes like JavaScript's `encodeURIComponent`: every byte of the UTF-8 form is percent-encoded
/// except `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
///
/// ```
/// use event_socket::url::encode_uri_component;
///
/// // encodeURIComponent("a+b&c=d#e/ü 😀") in a browser gives the same string.
/// assert_eq!(
///     encode_uri_component("a+b&c=d#e/ü 😀"),
///     "a%2Bb%26c%3Dd%23e%2F%C3%BC%20%F0%9F%98%80"
/// );
/// assert_eq!(encode_uri_component("-_.!~*'()"), "-_.!~*'()");
/// ```
pub fn encode_uri_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// Turns the `url` option into an absolute `ws:`/`wss:` URL without fragment.
///
/// `ws:`/`wss:` URLs are checked here. Anything else without a scheme is a reference relative to
/// the page: `join` resolves it (in the browser, the platform's own URL parser:
/// `new URL(url, location.href)`; `None` where there is no page, or no URL comes out), and the
/// page's http maps to ws, https to wss, so a page served through a dev proxy works unchanged.
pub fn resolve(url: &str, join: impl FnOnce(&str) -> Option<String>) -> Result<String, UrlError> {
    let url = trim(url);
    if url.is_empty() {
        return Err(UrlError::Empty);
    }
    // A WebSocket URL may not carry a fragment: the browser constructor throws on one.
    let url = match url.bytes().position(|b| b == b'#') {
        Some(i) => url.get(..i).unwrap_or_default(),
        None => url,
    };
    if let Some(key) = reserved_key(url) {
        return Err(UrlError::Reserved(key));
    }
    if let Some((scheme, rest)) = split_scheme(url) {
        let ws_scheme = if scheme.eq_ignore_ascii_case("ws") {
            "ws"
        } else if scheme.eq_ignore_ascii_case("wss") {
            "wss"
        } else {
            return Err(UrlError::Scheme(shown(url)));
        };
        let rest = rest
            .strip_prefix("//")
            .ok_or_else(|| UrlError::NoHost(shown(url)))?;
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
            return Err(UrlError::NoHost(shown(url)));
        }
        return Ok(format!("{ws_scheme}://{rest}"));
    }
    let no_base = || UrlError::NoBase(shown(url));
    let joined = join(url).ok_or_else(no_base)?;
    let (scheme, rest) = split_scheme(&joined).ok_or_else(no_base)?;
    let is = |name: &str| scheme.eq_ignore_ascii_case(name);
    let ws_scheme = if is("https") || is("wss") {
        "wss"
    } else if is("http") || is("ws") {
        "ws"
    } else {
        return Err(no_base());
    };
    // The joined URL has no fragment: `url` had none, and the join drops the page's.
    Ok(format!("{ws_scheme}:{rest}"))
}

/// The URL as an error may quote it: without its query, which may hold a token.
fn shown(url: &str) -> String {
    match url.bytes().position(|b| b == b'?') {
        Some(i) => format!("{}?…", url.get(..i).unwrap_or_default()),
        None => url.into(),
    }
}

/// `event` or `token` if the query of `url` has that key (the client adds both itself). Byte by
/// byte: `str::split` would bring its pattern machinery into the wasm for this one check.
fn reserved_key(url: &str) -> Option<&'static str> {
    let b = url.as_bytes();
    let mut start = b.iter().position(|&c| c == b'?')? + 1;
    loop {
        let rest = b.get(start..)?;
        let end = rest.iter().position(|&c| c == b'&').unwrap_or(rest.len());
        let pair = rest.get(..end)?;
        let key = pair.get(..pair.iter().position(|&c| c == b'=').unwrap_or(pair.len()))?;
        if key == b"event" {
            return Some("event");
        }
        if key == b"token" {
            return Some("token");
        }
        if end == rest.len() {
            return None;
        }
        start += end + 1;
    }
}

/// Without leading and trailing C0 controls and spaces, as the browser's URL parser strips them
/// (`str::trim` would also strip Unicode spaces the browser keeps, and brings a Unicode table and
/// UTF-8 decoding into the wasm).
pub fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let (mut start, mut end) = (0, b.len());
    while start < end && b.get(start).is_some_and(|c| *c <= b' ') {
        start += 1;
    }
    while end > start && b.get(end - 1).is_some_and(|c| *c <= b' ') {
        end -= 1;
    }
    // Both ends sit next to ASCII bytes, so they are character boundaries.
    s.get(start..end).unwrap_or_default()
}

/// `scheme:rest` when `url` starts with a syntactically valid scheme.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    // One pass, index by index (`get`, no panic path): a letter, then letters, digits, `+-.`.
    let b = url.as_bytes();
    let mut i = 0;
    loop {
        let c = *b.get(i)?;
        if c == b':' && i > 0 {
            break;
        }
        let ok = c.is_ascii_alphabetic()
            || (i > 0 && (c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')));
        if !ok {
            return None;
        }
        i += 1;
    }
    Some((url.get(..i)?, url.get(i + 1..)?))
}

/// Appends `params`, then `event` and `token`, to an absolute URL, keeping the query it already has.
/// Keys and values are encoded with [`encode_uri_component`].
///
/// ```
/// use event_socket::url::with_query;
///
/// let params = [("instance".to_string(), "main 1".to_string())];
/// assert_eq!(
///     with_query("wss://h/ws/events?v=2", "messages.upsert", "a+b", &params),
///     "wss://h/ws/events?v=2&instance=main%201&event=messages.upsert&token=a%2Bb"
/// );
/// ```
pub fn with_query(base: &str, event: &str, token: &str, params: &[(String, String)]) -> String {
    let mut out = String::with_capacity(base.len() + event.len() + token.len() + 32);
    out.push_str(base);
    let mut sep = if base.bytes().any(|b| b == b'?') {
        if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    let pairs = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("event", event), ("token", token)]);
    for (k, v) in pairs {
        out.push_str(sep);
        out.push_str(&encode_uri_component(k));
        out.push('=');
        out.push_str(&encode_uri_component(v));
        sep = "&";
    }
    out
}

/// The start of every lock and channel name: tabs running another version of the words (an app
/// deployed while an old tab stays open) use other names and never read each other; each keeps
/// its own socket until reloaded. Bump it when what a word means changes.
pub const TAB_PROTOCOL: &str = "event-socket/1 ";

/// The name of the lock and channel that tabs share one connection under: the protocol, the
/// connection URL without its token, and the instance (never the token: any script of the origin
/// can list lock names). `base` comes resolved by the browser's URL parser (scheme and host in
/// lower case, no default port); a trailing `/` is dropped here, so one server spelled those
/// ways shares. Different hosts never do.
///
/// ```
/// use event_socket::url::tab_key;
///
/// assert_eq!(
///     tab_key("wss://h/ws/events/", "messages.upsert", &[], "main"),
///     "event-socket/1 wss://h/ws/events?event=messages.upsert\nmain"
/// );
/// ```
pub fn tab_key(base: &str, event: &str, params: &[(String, String)], instance: &str) -> String {
    let url = without_token(base.trim_end_matches('/'), event, params);
    format!("{TAB_PROTOCOL}{url}\n{instance}")
}

/// The connection URL without its `token` parameter: what names a connection shared across tabs
/// (any script of the origin can read lock names, so the token is never part of one).
pub fn without_token(base: &str, event: &str, params: &[(String, String)]) -> String {
    let mut url = with_query(base, event, "", params);
    if let Some(kept) = url.strip_suffix("&token=").map(str::len) {
        url.truncate(kept);
    }
    url
}

/// The URL as the caller may see it (`url`, logs, error messages): the token's value is replaced,
/// because a token must never reach a console or an error tracker.
pub fn display(base: &str, event: &str, has_token: bool, params: &[(String, String)]) -> String {
    let mut u = with_query(base, event, "", params);
    if has_token {
        u.push_str("[redacted]");
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_share_one_server_spelled_with_or_without_a_trailing_slash_only() {
        let key = |base| tab_key(base, "e", &[], "i");
        assert_eq!(key("ws://h:1/ws/"), key("ws://h:1/ws"));
        assert_eq!(key("ws://h/"), key("ws://h"));
        assert_ne!(key("ws://h/ws"), key("ws://g/ws"));
        assert_ne!(key("ws://h/ws"), key("wss://h/ws"));
        assert_ne!(
            tab_key("ws://h", "e", &[], "a"),
            tab_key("ws://h", "e", &[], "b")
        );
        assert_ne!(
            tab_key("ws://h", "e", &[], "a"),
            tab_key("ws://h", "f", &[], "a")
        );
        assert!(!key("ws://h").contains("token"));
    }

    #[test]
    fn a_shared_connection_is_named_without_its_token() {
        let params = [("v".to_string(), "2".to_string())];
        assert_eq!(
            without_token("ws://h/ws/events", "messages.upsert", &params),
            "ws://h/ws/events?v=2&event=messages.upsert"
        );
        assert_eq!(without_token("ws://h/?x", "e", &[]), "ws://h/?x&event=e");
    }

    #[test]
    fn encodes_exactly_like_encode_uri_component() {
        // Expected values from JavaScript's encodeURIComponent.
        assert_eq!(
            encode_uri_component("a+b&c=d#e/ü 😀"),
            "a%2Bb%26c%3Dd%23e%2F%C3%BC%20%F0%9F%98%80"
        );
        assert_eq!(encode_uri_component("-_.!~*'()"), "-_.!~*'()");
        assert_eq!(encode_uri_component("?%:@$,;"), "%3F%25%3A%40%24%2C%3B");
    }

    #[test]
    fn keeps_existing_query_and_appends_event_and_token() {
        let u = with_query("ws://h:1/ws/events?x=1", "messages.upsert", "t k", &[]);
        assert_eq!(
            u,
            "ws://h:1/ws/events?x=1&event=messages.upsert&token=t%20k"
        );
        let u = with_query("ws://h/ws", "e", "", &[("a b".into(), "c&d".into())]);
        assert_eq!(u, "ws://h/ws?a%20b=c%26d&event=e&token=");
        assert_eq!(
            with_query("ws://h/?", "e", "t", &[]),
            "ws://h/?event=e&token=t"
        );
    }

    /// A stand-in for the browser's `new URL(url, page)` in these native tests: it answers the
    /// references the tests give, and nothing else (the browser tests check the real parser).
    fn page(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |url| {
            let joined = pairs.iter().find(|(u, _)| *u == url);
            joined.map(|(_, j)| j.to_string())
        }
    }

    fn no_page(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn resolves_paths_against_the_page_with_its_scheme_made_ws() {
        let join = page(&[
            ("/ws/events", "https://example.com:8443/ws/events"),
            ("ws/events", "https://example.com:8443/app/ws/events"),
            ("//other:1/x", "https://other:1/x"),
            ("/echo", "http://127.0.0.1:8080/echo"),
            ("/p", "HTTPS://h:1/p"),
            ("/file", "file:///file"),
        ]);
        assert_eq!(
            resolve("/ws/events", &join).as_deref(),
            Ok("wss://example.com:8443/ws/events")
        );
        assert_eq!(
            resolve("ws/events", &join).as_deref(),
            Ok("wss://example.com:8443/app/ws/events")
        );
        assert_eq!(
            resolve("//other:1/x", &join).as_deref(),
            Ok("wss://other:1/x")
        );
        assert_eq!(
            resolve("/echo", &join).as_deref(),
            Ok("ws://127.0.0.1:8080/echo")
        );
        assert_eq!(resolve("/p", &join).as_deref(), Ok("wss://h:1/p"));
        assert!(matches!(resolve("/file", &join), Err(UrlError::NoBase(_))));
        // The fragment goes before the page sees the reference.
        assert_eq!(
            resolve(" /echo#x", &join).as_deref(),
            Ok("ws://127.0.0.1:8080/echo")
        );
    }

    #[test]
    fn accepts_ws_and_wss_and_drops_fragments() {
        assert_eq!(
            resolve("WS://h:1/p#f", no_page).as_deref(),
            Ok("ws://h:1/p")
        );
        assert_eq!(
            resolve(" wss://h/p?a=1 ", no_page).as_deref(),
            Ok("wss://h/p?a=1")
        );
        // What the browser's URL parser strips: C0 controls and spaces, not Unicode spaces.
        assert_eq!(
            resolve("\t\n\u{0}WsS://h/p\r ", no_page).as_deref(),
            Ok("wss://h/p")
        );
        assert_eq!(trim("\u{a0}ws://h\u{3000}"), "\u{a0}ws://h\u{3000}");
        assert_eq!(trim(" \t "), "");
        assert_eq!(resolve(" \n", no_page), Err(UrlError::Empty));
    }

    #[test]
    fn refuses_event_and_token_in_the_url_and_never_quotes_a_query() {
        assert_eq!(
            resolve("ws://h/ws/events?event=x", no_page),
            Err(UrlError::Reserved("event"))
        );
        assert_eq!(
            resolve("/ws/events?a=1&token=secret", no_page),
            Err(UrlError::Reserved("token"))
        );
        assert_eq!(
            resolve("ws://h/ws/events?events=1&tokens&x=event", no_page).as_deref(),
            Ok("ws://h/ws/events?events=1&tokens&x=event")
        );
        let token_msg = UrlError::Reserved("token").message();
        assert!(token_msg.contains("`token` option"), "{token_msg}");
        // Other errors quote the URL without its query: it may hold a token.
        let e = resolve("http://h/ws?t=secret", no_page).unwrap_err();
        assert_eq!(e, UrlError::Scheme("http://h/ws?…".into()));
        assert!(!e.message().contains("secret"));
    }

    #[test]
    fn rejects_what_a_websocket_cannot_open() {
        assert_eq!(resolve("", no_page), Err(UrlError::Empty));
        assert!(matches!(
            resolve("http://h/", no_page),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            resolve("ws:///p", no_page),
            Err(UrlError::NoHost(_))
        ));
        assert!(matches!(resolve("ws:h", no_page), Err(UrlError::NoHost(_))));
        assert!(matches!(resolve("/p", no_page), Err(UrlError::NoBase(_))));
        // A scheme is a letter, then letters, digits, `+-.`; anything else makes a relative path.
        assert!(matches!(
            resolve("a+b.c-9:x", no_page),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(resolve(":x", no_page), Err(UrlError::NoBase(_))));
        let join = page(&[
            ("1ws://h", "http://p/d/1ws://h"),
            ("w_s://h", "http://p/w_s://h"),
        ]);
        assert_eq!(resolve("1ws://h", &join).as_deref(), Ok("ws://p/d/1ws://h"));
        assert_eq!(resolve("w_s://h", &join).as_deref(), Ok("ws://p/w_s://h"));
        assert!(UrlError::Scheme("http://h".into())
            .to_string()
            .contains("ws://"));
    }

    #[test]
    fn display_hides_the_token() {
        assert_eq!(
            display("ws://h/ws", "e", true, &[]),
            "ws://h/ws?event=e&token=[redacted]"
        );
        assert_eq!(
            display("ws://h/ws", "e", false, &[]),
            "ws://h/ws?event=e&token="
        );
    }
}
