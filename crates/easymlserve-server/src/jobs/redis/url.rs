//! The Redis URL as the store shows it: the log and every error message name the Redis a replica uses, and
//! must never repeat its password, so the one place that strips it is here, with its test.

/// `url` without its password (in the authority or a `pass=` query), for the log; what is not a Redis URL
/// is not repeated at all, since it may hold one.
pub(super) fn redacted(url: &str) -> String {
    let Some(mut parsed) = ::redis::parse_redis_url(url) else {
        return "(not a Redis URL)".to_owned();
    };
    // Fails only for URLs that cannot have a password, which then have none.
    let _ = parsed.set_password(None);
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(name, _)| name != "pass")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    parsed.set_query(None);
    if !pairs.is_empty() {
        parsed.query_pairs_mut().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn the_description_has_no_password() {
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redacted("redis://:hunter2@cache:6380/2"), "redis://cache:6380/2");
        assert_eq!(redacted("redis://jobs:hunter2@cache/0"), "redis://jobs@cache/0");
        assert_eq!(
            redacted("redis+unix:///run/redis.sock?db=1&pass=hunter2"),
            "redis+unix:///run/redis.sock?db=1"
        );
        assert_eq!(redacted("http://:hunter2@cache"), "(not a Redis URL)");
    }
}
