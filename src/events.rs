//! CodeChat's event names, and the hint for a name its server would refuse.
//!
//! The server refuses an unknown or misspelled event (names are case-sensitive) with the same raw
//! `401` as a bad token, so the browser sees only a connection that failed before opening. When
//! that happens on a CodeChat events URL (`…/ws/events`) for an event that is not one of its
//! names, the `connect` error says so and names the closest one. Never a `TypeError` at
//! `socket()`: other servers have other events.

/// The 22 event names CodeChat accepts (`ListEvents` in its source).
pub const ACCEPTED: [&str; 22] = [
    "qrcode.updated",
    "messages.set",
    "messages.upsert",
    "messages.update",
    "send.message",
    "contacts.set",
    "contacts.upsert",
    "contacts.update",
    "chats.set",
    "chats.upsert",
    "chats.update",
    "chats.delete",
    "presence.update",
    "groups.upsert",
    "groups.update",
    "group-participants.update",
    "connection.update",
    "status.instance",
    "refresh.token",
    "call.upsert",
    "labels.association",
    "labels.edit",
];

/// The 13 of them the server ever sends over a socket; a subscription to one of the other nine is
/// accepted and then waits forever, by the server's design (they go to webhooks only, if anywhere).
pub const SENT: [&str; 13] = [
    "qrcode.updated",
    "connection.update",
    "messages.upsert",
    "messages.update",
    "send.message",
    "chats.upsert",
    "chats.update",
    "contacts.upsert",
    "presence.update",
    "groups.upsert",
    "groups.update",
    "group-participants.update",
    "call.upsert",
];

/// Why a connection of `event` to `url` (the resolved URL, before `event` and `token` are added)
/// may have failed, if `url` is a CodeChat events endpoint and `event` is not one of its names.
///
/// ```
/// use event_socket::events::hint;
///
/// let h = hint("wss://h/ws/events", "messages.upserts").unwrap();
/// assert!(h.contains("did you mean \"messages.upsert\""), "{h}");
/// assert_eq!(hint("wss://h/ws/events", "messages.upsert"), None);
/// assert_eq!(hint("wss://h/other", "anything"), None);
/// ```
pub fn hint(url: &str, event: &str) -> Option<String> {
    let end = url
        .bytes()
        .position(|b| b == b'?' || b == b'#')
        .unwrap_or(url.len());
    let path = url.get(..end).unwrap_or(url);
    if !path.ends_with("/ws/events") {
        return None;
    }
    // An accepted name is its own closest (it shares all of its start and end with itself).
    let closest = closest(event);
    (closest != event)
        .then(|| format!("\"{event}\" is not a CodeChat event: did you mean \"{closest}\"?"))
}

/// The accepted name nearest to `event`, ignoring case: the one sharing the longest start and end
/// with it (a typo is mostly one spot: `messages.upserts`, `message.upsert`, `Qrcode.Updated`;
/// the first of a tie).
pub fn closest(event: &str) -> &'static str {
    let mut best = (ACCEPTED[0], 0);
    for name in ACCEPTED {
        let shared = shared_ends(event.as_bytes(), name.as_bytes());
        if shared > best.1 {
            best = (name, shared);
        }
    }
    best.0
}

/// How many bytes `a` and `b` share at their start plus at their end, ignoring ASCII case.
fn shared_ends(a: &[u8], b: &[u8]) -> usize {
    let start = a
        .iter()
        .zip(b)
        .take_while(|(x, y)| x.eq_ignore_ascii_case(y));
    let end = a.iter().rev().zip(b.iter().rev());
    start.count() + end.take_while(|(x, y)| x.eq_ignore_ascii_case(y)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_closest_event() {
        for (typo, want) in [
            ("messages.upserts", "messages.upsert"),
            ("Messages.Upsert", "messages.upsert"),
            ("message.upsert", "messages.upsert"),
            ("connection.updated", "connection.update"),
            ("qrcode.update", "qrcode.updated"),
            ("group-participant.update", "group-participants.update"),
            ("call", "call.upsert"),
            ("chats.upserted", "chats.upsert"),
            ("presence", "presence.update"),
        ] {
            assert_eq!(closest(typo), want, "{typo}");
        }
    }

    #[test]
    fn hints_only_for_codechat_urls_and_unknown_names() {
        assert!(hint("ws://h:8084/ws/events?v=2", "chats.upserts").is_some());
        assert_eq!(hint("ws://h:8084/ws/events", "chats.upsert"), None);
        assert_eq!(hint("ws://h:8084/echo", "chats.upserts"), None);
        assert_eq!(hint("ws://h:8084/ws/events/x", "chats.upserts"), None);
    }

    #[test]
    fn shared_ends_count_the_common_start_and_end() {
        assert_eq!(shared_ends(b"message.upsert", b"messages.upsert"), 14);
        assert_eq!(shared_ends(b"ABC", b"abc"), 6);
        assert_eq!(shared_ends(b"xyz", b"abc"), 0);
    }

    #[test]
    fn the_sent_events_are_accepted_ones_and_each_name_is_its_own_closest() {
        assert!(SENT.iter().all(|e| ACCEPTED.contains(e)));
        assert!(ACCEPTED.iter().all(|e| closest(e) == *e));
    }
}
