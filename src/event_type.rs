//! Event types (sequences of string segments) and query-type matching.

/// An event type: zero or more UTF-8 segments, each possibly empty.
pub type EventType = Vec<String>;

/// Does `event_type` match `query_type`? The rules of the reference
/// (`hat.event.common.matches_query_type`):
///
/// * `"?"` matches exactly one segment of any value;
/// * a trailing `"*"` matches zero or more segments;
/// * any other segment matches an equal segment;
/// * the empty query type matches only the empty event type.
///
/// A `"*"` that is not last gets no special meaning here: like any other
/// segment it matches only an equal segment, as in the reference.
/// (Subscriptions refuse such query types.)
pub fn matches_query_type<E: AsRef<str>, Q: AsRef<str>>(event_type: &[E], query_type: &[Q]) -> bool {
    let (fixed, variable) = match query_type.split_last() {
        Some((last, rest)) if last.as_ref() == "*" => (rest, true),
        _ => (query_type, false),
    };
    if event_type.len() < fixed.len() || (event_type.len() > fixed.len() && !variable) {
        return false;
    }
    event_type.iter().zip(fixed).all(|(e, q)| q.as_ref() == "?" || e.as_ref() == q.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every case of hat-event test_pytest/test_common/test_matches.py.
    #[test]
    fn matches_reference_cases() {
        let cases: &[(&[&str], &[&str], bool)] = &[
            (&[], &[], true),
            (&[], &["*"], true),
            (&[], &["?"], false),
            (&["a"], &[], false),
            (&["a"], &["*"], true),
            (&["a"], &["?"], true),
            (&["a"], &["?", "*"], true),
            (&["a"], &["?", "?"], false),
            (&["a"], &["a"], true),
            (&["a"], &["a", "*"], true),
            (&["a"], &["a", "?"], false),
            (&["a"], &["b"], false),
            (&["a"], &["a", "b"], false),
            (&["a", "b"], &[], false),
            (&["a", "b"], &["*"], true),
            (&["a", "b"], &["?"], false),
            (&["a", "b"], &["?", "*"], true),
            (&["a", "b"], &["?", "?"], true),
            (&["a", "b"], &["?", "?", "*"], true),
            (&["a", "b"], &["?", "?", "?"], false),
            (&["a", "b"], &["a"], false),
            (&["a", "b"], &["a", "*"], true),
            (&["a", "b"], &["a", "?"], true),
            (&["a", "b"], &["a", "?", "*"], true),
            (&["a", "b"], &["a", "?", "?"], false),
            (&["a", "b"], &["?", "b"], true),
            (&["a", "b"], &["?", "b", "*"], true),
            (&["a", "b"], &["?", "b", "?"], false),
            (&["a", "b"], &["b", "a"], false),
            (&["a", "b"], &["a", "b", "c"], false),
        ];
        for (event_type, query_type, expected) in cases {
            assert_eq!(matches_query_type(event_type, query_type), *expected, "{event_type:?} {query_type:?}");
        }
    }

    #[test]
    fn star_not_last_matches_only_itself() {
        assert!(!matches_query_type(&["a", "b"], &["*", "b"]));
        assert!(matches_query_type(&["*", "b"], &["*", "b"]));
    }

    #[test]
    fn empty_and_unicode_segments_compare_exactly() {
        assert!(matches_query_type(&[""], &[""]));
        assert!(matches_query_type(&[""], &["?"]));
        assert!(!matches_query_type::<_, &str>(&[""], &[]));
        assert!(matches_query_type(&["ž", "日本"], &["ž", "*"]));
        assert!(!matches_query_type(&["e\u{301}"], &["\u{e9}"]));
    }

    #[test]
    fn owned_and_borrowed_segments_mix() {
        let event_type: EventType = vec!["a".into(), "b".into()];
        assert!(matches_query_type(&event_type, &["a", "?"]));
    }
}
