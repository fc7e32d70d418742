//! API keys: parsed from the environment or a file, compared in constant time, never printed.

use std::fmt;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;

/// A secret key. Its `Debug` output is redacted so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The set of accepted API keys. Empty means the service is open.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKeys(Vec<Secret>);

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeys({} keys, redacted)", self.0.len())
    }
}

impl ApiKeys {
    /// Keys from an iterator of strings; blank ones are skipped.
    pub fn new<I, K>(keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        Self(
            keys.into_iter()
                .map(|k| k.as_ref().trim().to_owned())
                .filter(|k| !k.is_empty())
                .map(|k| Secret(k.into_bytes()))
                .collect(),
        )
    }

    /// Keys from a comma-separated list, as in `EASYMLSERVE_API_KEYS`.
    pub fn parse_list(list: &str) -> Self {
        Self::new(list.split(','))
    }

    /// Keys from a file's text: one per line, `#` starts a comment line.
    pub fn parse_lines(text: &str) -> Self {
        Self::new(text.lines().filter(|line| !line.trim_start().starts_with('#')))
    }

    /// Adds the keys of `other`.
    pub fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    /// Whether authentication is on.
    pub fn is_enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `candidate` is one of the keys. Every key is compared in full, whatever matches.
    pub fn accepts(&self, candidate: &[u8]) -> bool {
        self.0
            .iter()
            .fold(false, |found, key| constant_time_eq(&key.0, candidate) | found)
    }

    /// Checks the request headers: `Authorization: Bearer <key>` or `x-api-key: <key>`.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if !self.is_enabled() || self.presented(headers).is_some() {
            Ok(())
        } else {
            Err(ApiError::Unauthorized)
        }
    }

    /// The accepted key the request carries, if any.
    fn presented<'h>(&self, headers: &'h HeaderMap) -> Option<&'h [u8]> {
        let bearer = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|v| v.trim().as_bytes());
        let header_key = headers.get("x-api-key").map(|v| v.as_bytes());
        let bearer_ok = bearer.is_some_and(|k| self.accepts(k));
        let header_ok = header_key.is_some_and(|k| self.accepts(k));
        if bearer_ok {
            bearer
        } else if header_ok {
            header_key
        } else {
            None
        }
    }

    /// Who owns what this request submits: the SHA-256 of its accepted key, `None` when keys are off.
    /// Jobs keep it, so only the same key reads them; the key itself is never stored.
    pub(crate) fn owner(&self, headers: &HeaderMap) -> Option<String> {
        self.presented(headers).map(crate::jobs::digest)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = a.len() ^ b.len();
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// Middleware that refuses requests without a valid key when keys are configured.
pub(crate) async fn require_key(
    State(keys): State<ApiKeys>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    keys.check(request.headers())?;
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_whole_keys() {
        let keys = ApiKeys::parse_list("alpha, beta ,,");
        assert_eq!(keys.len(), 2);
        assert!(keys.accepts(b"alpha"));
        assert!(keys.accepts(b"beta"));
        assert!(!keys.accepts(b"alph"));
        assert!(!keys.accepts(b"alphaa"));
        assert!(!keys.accepts(b""));
    }

    #[test]
    fn file_lines_skip_comments_and_blanks() {
        let keys = ApiKeys::parse_lines("# team keys\nk1\n\n  k2  \n#k3\n");
        assert!(keys.accepts(b"k1") && keys.accepts(b"k2"));
        assert!(!keys.accepts(b"k3") && !keys.accepts(b"#k3"));
    }

    #[test]
    fn debug_output_is_redacted() {
        let keys = ApiKeys::parse_list("supersecret");
        assert!(!format!("{keys:?}").contains("supersecret"));
    }
}
