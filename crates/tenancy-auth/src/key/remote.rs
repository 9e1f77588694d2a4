//! A JWKS fetched over HTTPS (feature `remote-jwks`).

use std::net::IpAddr;
use std::time::Duration;

use reqwest::{Client, Url, redirect};

use super::{KeySet, KeySource, parse_jwks};
use crate::error::{AuthError, ConfigError};

/// Why a remote JWKS could not be fetched. Wrapped in
/// [`AuthError::KeySource`]: the validator keeps its last good keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteJwksError {
    /// The request failed (connection, TLS, timeout).
    #[error("jwks request failed")]
    Http(#[source] reqwest::Error),
    /// The server answered with a status other than success or redirection.
    #[error("jwks endpoint answered status {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The server answered with a redirection (3xx). Redirects are never
    /// followed: the keys come from the configured URL or not at all.
    #[error("jwks endpoint answered redirect status {status}; redirects are refused")]
    Redirect {
        /// The HTTP status code.
        status: u16,
    },
    /// The answer came from another URL than the configured one: the
    /// client followed a redirect. Its document is not read.
    #[error("jwks response came from another url; the client followed a redirect")]
    Redirected,
    /// The document exceeds the size limit.
    #[error("jwks document is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The document is not a valid JWKS.
    #[error("jwks document is not valid")]
    Document(#[source] AuthError),
}

/// The JWKS of an identity provider, fetched over HTTPS with reqwest.
///
/// Only `https` URLs are accepted, except `http` to a loopback address
/// (`127.0.0.1`, `[::1]`, `localhost`) for local development and tests.
/// Redirects are refused, whatever the client: a 3xx answer is an error
/// ([`RemoteJwksError::Redirect`]), and so is an answer from any URL but
/// the configured one ([`RemoteJwksError::Redirected`], a client that
/// followed a redirect), so keys never come from another host or scheme.
/// Requests time out after 10 seconds, and a document over 256 KiB is
/// refused. The document may hold public keys only (see
/// [`parse_jwks`](crate::parse_jwks)). Put a
/// [`CachingKeySource`](crate::CachingKeySource) in front of it.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tenancy_auth::{CachingKeySource, RemoteJwks};
///
/// let source = RemoteJwks::new("https://id.example.com/.well-known/jwks.json")?;
/// let keys = Arc::new(CachingKeySource::new(source, Duration::from_secs(60)));
/// assert!(RemoteJwks::new("http://id.example.com/jwks.json").is_err());
/// # let _ = keys;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RemoteJwks {
    client: Client,
    url: Url,
    max_bytes: usize,
}

/// The largest JWKS document accepted by default: 256 KiB.
pub const DEFAULT_MAX_JWKS_BYTES: usize = 256 * 1024;

fn checked_url(url: &str) -> Result<Url, AuthError> {
    let url = Url::parse(url).map_err(|_| ConfigError::InvalidUrl)?;
    let loopback = url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(ConfigError::InvalidUrl.into()),
    }
}

impl RemoteJwks {
    /// A source fetching `url` with a client of its own.
    pub fn new(url: &str) -> Result<Self, AuthError> {
        let url = checked_url(url)?;
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|_| ConfigError::InvalidUrl)?;
        Ok(RemoteJwks {
            client,
            url,
            max_bytes: DEFAULT_MAX_JWKS_BYTES,
        })
    }

    /// A source fetching `url` with the service's own client (its proxy,
    /// timeouts and roots).
    ///
    /// Whatever the client's redirect policy, no redirect is honoured: a
    /// 3xx answer, or an answer the client fetched from another URL after
    /// following one, is an error and loads no keys. Still, turn the
    /// client's redirects off
    /// ([`redirect::Policy::none`](reqwest::redirect::Policy::none)): a
    /// client that follows them sends the redirected request before this
    /// source can refuse its answer.
    pub fn with_client(client: Client, url: &str) -> Result<Self, AuthError> {
        Ok(RemoteJwks {
            client,
            url: checked_url(url)?,
            max_bytes: DEFAULT_MAX_JWKS_BYTES,
        })
    }

    /// Refuses documents larger than `max_bytes`.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The URL fetched.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    async fn fetch_document(&self) -> Result<KeySet, RemoteJwksError> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(RemoteJwksError::Http)?;
        // INVARIANT: keys come only from the configured URL, which passed
        // `checked_url` (https, or http to loopback). The client is the
        // caller's and may follow redirects, so every answer is checked
        // here: a 3xx is refused, and so is an answer from any other URL.
        let status = response.status();
        if status.is_redirection() {
            return Err(RemoteJwksError::Redirect {
                status: status.as_u16(),
            });
        }
        if *response.url() != self.url {
            return Err(RemoteJwksError::Redirected);
        }
        if !status.is_success() {
            return Err(RemoteJwksError::Status {
                status: status.as_u16(),
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(RemoteJwksError::TooLarge {
                limit: self.max_bytes,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(RemoteJwksError::Http)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(RemoteJwksError::TooLarge {
                    limit: self.max_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body)
            .map_err(|_| RemoteJwksError::Document(ConfigError::Jwks.into()))?;
        parse_jwks(&text).map_err(RemoteJwksError::Document)
    }
}

#[async_trait::async_trait]
impl KeySource for RemoteJwks {
    async fn fetch(&self) -> Result<KeySet, AuthError> {
        self.fetch_document().await.map_err(AuthError::key_source)
    }
}

#[cfg(test)]
mod tests {
    use tenancy_core::Report;

    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        for ok in [
            "https://id.example.com/jwks.json",
            "http://127.0.0.1:8080/jwks.json",
            "http://[::1]/jwks",
            "http://localhost/jwks",
        ] {
            assert!(checked_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.com/jwks.json",
            "http://10.0.0.1/jwks",
            "ftp://id.example.com/jwks",
            "file:///etc/jwks.json",
            "jwks.json",
            "",
        ] {
            assert!(checked_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_failed_fetch_tells_each_cause_once() {
        let error = AuthError::key_source(RemoteJwksError::Document(ConfigError::Jwks.into()));
        assert!(Report::new(&error).repeated().is_none());
        assert_eq!(
            Report::new(&error).to_string(),
            "key source failed: jwks document is not valid: \
             auth configuration error: key set document is not valid"
        );
    }
}
