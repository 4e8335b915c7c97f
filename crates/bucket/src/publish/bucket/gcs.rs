//! The `gs://BUCKET/PREFIX` backend: Google Cloud Storage through its JSON API, with reqwest.
//!
//! Why not `object_store`: it uploads through the XML API, which fake-gcs-server (the emulator
//! the tests use) refuses, so none of its GCS code could be tested here (TOOLCHAIN.md). The JSON
//! API calls used are few and stable:
//! - metadata: `GET /storage/v1/b/B/o/NAME` (generation, size)
//! - download: `GET /storage/v1/b/B/o/NAME?alt=media`
//! - upload: `POST /upload/storage/v1/b/B/o?uploadType=multipart&ifGenerationMatch=G`, whose JSON
//!   part carries `contentType`, `cacheControl`, `contentEncoding` and the SHA-256 of the bytes
//!   in custom metadata (the emulator checks the precondition on multipart uploads only, so
//!   multipart it is). Every upload carries a generation precondition, so repeating one cannot
//!   overwrite anything: uploads are retried like reads, and when a retry meets 412 because an
//!   earlier attempt had landed (its answer lost), the object's SHA-256 says so.
//! - list: `GET /storage/v1/b/B/o?prefix=P`, delete: `DELETE /storage/v1/b/B/o/NAME`.
//!
//! Credentials: Application Default Credentials through `gcp_auth` (service-account file from
//! `GOOGLE_APPLICATION_CREDENTIALS`, gcloud user credentials, the metadata server on Cloud Run or
//! GitHub's workload identity federation file). With an explicit endpoint (`--endpoint` or
//! `STORAGE_EMULATOR_HOST`) no credentials are sent. Tokens are never logged or put in errors.

use super::{Connection, Encoding, ObjectInfo, Put, StoreError};
use std::sync::Arc;
use std::time::Duration;

const PRODUCTION_ENDPOINT: &str = "https://storage.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";
/// Attempts for requests that are safe to repeat (reads, deletes, uploads under a generation
/// precondition, and any request that never reached the server).
const ATTEMPTS: u32 = 3;
/// Largest JSON answer of the API read (one listing page holds at most 1000 objects).
const MAX_API_JSON: u64 = 16 << 20;
/// How much of an error answer is read (only an excerpt is shown).
const MAX_ERROR_BODY: u64 = 64 << 10;
/// Custom metadata key holding the hex SHA-256 of an uploaded object's (decoded) bytes.
const SHA256_KEY: &str = "playalike-sha256";

/// A Cloud Storage bucket (and prefix) reached through the JSON API.
pub struct GcsStore {
    http: reqwest::Client,
    endpoint: String,
    bucket: String,
    prefix: String,
    public_base: String,
    auth: Option<Arc<dyn gcp_auth::TokenProvider>>,
}

/// Percent-encodes an object name for a URL path segment (`/` included, as the API wants).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The emulator endpoint from `STORAGE_EMULATOR_HOST` (`host:port` or a URL), when set.
fn emulator_from_env() -> Option<String> {
    let host = std::env::var("STORAGE_EMULATOR_HOST").ok()?;
    let host = host.trim();
    if host.is_empty() {
        return None;
    }
    Some(if host.contains("://") { host.to_string() } else { format!("http://{host}") })
}

/// A short, single-line excerpt of an error body.
fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        format!("{}…", one_line.chars().take(300).collect::<String>())
    } else {
        one_line
    }
}

#[derive(serde::Deserialize)]
struct ObjectResource {
    name: String,
    #[serde(default)]
    generation: Option<serde_json::Value>,
    #[serde(default)]
    size: Option<serde_json::Value>,
    /// Custom metadata (`SHA256_KEY` on the objects this program uploads).
    #[serde(default)]
    metadata: Option<std::collections::HashMap<String, String>>,
}

/// The API sends int64 fields as strings; accept numbers too.
fn as_i64(v: &Option<serde_json::Value>) -> i64 {
    match v {
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[serde(default)]
    items: Vec<ObjectResource>,
    #[serde(default)]
    next_page_token: Option<String>,
}

impl GcsStore {
    /// Prepares the client and, for production, finds credentials.
    pub async fn open(bucket: &str, prefix: &str, conn: &Connection) -> Result<GcsStore, StoreError> {
        let target =
            if prefix.is_empty() { format!("gs://{bucket}") } else { format!("gs://{bucket}/{prefix}") };
        // reqwest is built without a bundled crypto provider; use ring (gcp_auth builds it
        // anyway). Installing twice is harmless: the second call returns Err and changes nothing.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("playalike/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StoreError::Other(format!("could not build the HTTP client: {e}")))?;
        let explicit = conn.endpoint.clone().or_else(emulator_from_env);
        let auth = match &explicit {
            Some(_) => None,
            None => Some(gcp_auth::provider().await.map_err(|e| StoreError::Auth {
                target: target.clone(),
                detail: format!(
                    "no Google credentials found ({e}); set GOOGLE_APPLICATION_CREDENTIALS to a \
                     service-account key file, run `gcloud auth application-default login`, or run \
                     on Google Cloud with a service account"
                ),
            })?),
        };
        let endpoint =
            explicit.unwrap_or_else(|| PRODUCTION_ENDPOINT.to_string()).trim_end_matches('/').to_string();
        let public_base = match &conn.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("{endpoint}/{bucket}"),
        };
        Ok(GcsStore {
            http,
            endpoint,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            public_base,
            auth,
        })
    }

    fn target(&self) -> String {
        if self.prefix.is_empty() {
            format!("gs://{}", self.bucket)
        } else {
            format!("gs://{}/{}", self.bucket, self.prefix)
        }
    }

    fn full_name(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_string() } else { format!("{}/{name}", self.prefix) }
    }

    fn relative_name(&self, full: &str) -> String {
        if self.prefix.is_empty() {
            full.to_string()
        } else {
            full.strip_prefix(&format!("{}/", self.prefix)).unwrap_or(full).to_string()
        }
    }

    fn object_url(&self, name: &str) -> String {
        format!(
            "{}/storage/v1/b/{}/o/{}",
            self.endpoint,
            encode_segment(&self.bucket),
            encode_segment(&self.full_name(name))
        )
    }

    pub fn public_url(&self, name: &str) -> String {
        format!("{}/{}", self.public_base, self.full_name(name))
    }

    async fn token(&self) -> Result<Option<String>, StoreError> {
        let Some(auth) = &self.auth else { return Ok(None) };
        let token = auth.token(&[SCOPE]).await.map_err(|e| StoreError::Auth {
            target: self.target(),
            detail: format!("could not get an access token from the application default credentials: {e}"),
        })?;
        Ok(Some(token.as_str().to_string()))
    }

    /// Sends a request built by `make`, retrying what is safe to retry; maps transport errors.
    /// `idempotent` requests (reads, deletes, conditional uploads) are retried on 429/5xx and on
    /// any transport error (a dropped connection included); the others only when they never
    /// reached the server.
    async fn send(
        &self,
        what: &str,
        idempotent: bool,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, StoreError> {
        Ok(self.send_tracked(what, idempotent, make).await?.0)
    }

    /// [`Self::send`], also saying whether an earlier attempt may have taken effect: it reached
    /// the server and its answer was a 5xx or was lost.
    async fn send_tracked(
        &self,
        what: &str,
        idempotent: bool,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::Response, bool), StoreError> {
        let mut attempt = 0;
        let mut maybe_applied = false;
        loop {
            attempt += 1;
            let mut req = make();
            if let Some(token) = self.token().await? {
                req = req.bearer_auth(token);
            }
            let last = attempt >= ATTEMPTS;
            match req.send().await {
                Ok(resp) => {
                    let s = resp.status().as_u16();
                    if idempotent && !last && (s == 429 || s >= 500) {
                        tracing::warn!("HTTP {s} from {} while {what}; retrying", self.endpoint);
                        maybe_applied |= s >= 500;
                    } else {
                        return Ok((resp, maybe_applied));
                    }
                }
                Err(e) => {
                    // A request that never connected did not reach the server: always safe.
                    maybe_applied |= !e.is_connect();
                    if !last && (e.is_connect() || idempotent) {
                        tracing::warn!("{} from {} while {what}; retrying", error_chain(&e), self.endpoint);
                    } else {
                        let kind = if e.is_connect() {
                            "could not connect"
                        } else if e.is_timeout() {
                            "timed out"
                        } else {
                            "request failed"
                        };
                        return Err(StoreError::Other(format!(
                            "{kind} to {} for {} while {what}: {}",
                            self.endpoint,
                            self.target(),
                            error_chain(&e)
                        )));
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
        }
    }

    /// Turns a non-success status into the right [`StoreError`].
    async fn fail(&self, resp: reqwest::Response, what: &str, expected_gen: i64, name: &str) -> StoreError {
        let status = resp.status().as_u16();
        let body = error_body(resp).await;
        match status {
            401 | 403 => StoreError::Auth {
                target: self.target(),
                detail: format!("HTTP {status} while {what}: {}", excerpt(&body)),
            },
            412 => StoreError::PreconditionFailed {
                target: self.target(),
                name: name.to_string(),
                expected: expected_gen,
            },
            404 => StoreError::NoBucket {
                target: self.target(),
                hint: format!(
                    " (HTTP 404 while {what}: {}; create it as deploy/README.md shows)",
                    excerpt(&body)
                ),
            },
            _ => StoreError::Other(format!(
                "HTTP {status} from {} for {} while {what}: {}",
                self.endpoint,
                self.target(),
                excerpt(&body)
            )),
        }
    }

    /// A 404 on an object URL means "no such object" unless the body says the bucket is missing.
    async fn missing_object_or_bucket(&self, resp: reqwest::Response, what: &str) -> Result<(), StoreError> {
        let body = error_body(resp).await;
        let lower = body.to_ascii_lowercase();
        if lower.contains("bucket") && !lower.contains("object") {
            return Err(StoreError::NoBucket {
                target: self.target(),
                hint: format!(" (HTTP 404 while {what}: {})", excerpt(&body)),
            });
        }
        Ok(())
    }

    pub async fn stat(&self, name: &str) -> Result<Option<ObjectInfo>, StoreError> {
        Ok(self.resource(name).await?.map(|obj| ObjectInfo {
            name: name.to_string(),
            generation: as_i64(&obj.generation),
            size: as_i64(&obj.size) as u64,
        }))
    }

    /// An object's resource (generation, size, custom metadata); None when absent.
    async fn resource(&self, name: &str) -> Result<Option<ObjectResource>, StoreError> {
        let what = format!("reading the metadata of {name}");
        let url = self.object_url(name);
        let resp = self.send(&what, true, || self.http.get(&url)).await?;
        if resp.status().as_u16() == 404 {
            self.missing_object_or_bucket(resp, &what).await?;
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self.fail(resp, &what, 0, name).await);
        }
        let obj: ObjectResource = api_json(resp, &what, "object metadata").await?;
        Ok(Some(obj))
    }

    /// Downloads an object; a body cut short is downloaded again (reads are safe to repeat).
    pub async fn get(&self, name: &str, max: u64) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.get_once(name, max).await {
                Err(Interrupted(msg)) if attempt < ATTEMPTS => {
                    tracing::warn!("{msg}; retrying");
                    tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                }
                Err(Interrupted(msg)) => return Err(StoreError::Other(msg)),
                Ok(r) => return r,
            }
        }
    }

    async fn get_once(
        &self,
        name: &str,
        max: u64,
    ) -> Result<Result<Option<(Vec<u8>, i64)>, StoreError>, Interrupted> {
        let what = format!("downloading {name}");
        let resp = match self
            .send(&what, true, || self.http.get(self.object_url(name)).query(&[("alt", "media")]))
            .await
        {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        if resp.status().as_u16() == 404 {
            return Ok(self.missing_object_or_bucket(resp, &what).await.map(|()| None));
        }
        if !resp.status().is_success() {
            return Ok(Err(self.fail(resp, &what, 0, name).await));
        }
        let header = |h: &str| resp.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_string);
        let generation_header = header("x-goog-generation").and_then(|g| g.parse::<i64>().ok());
        let gzipped = header("content-encoding").is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
        let bytes = match read_body(resp, max).await {
            Ok(b) => b,
            Err(BodyError::TooLarge(n)) => return Ok(Err(super::too_large(&format!("{name}, {n}"), max))),
            Err(BodyError::Cut(e)) => {
                return Err(Interrupted(format!("download interrupted while {what}: {}", error_chain(&e))));
            }
        };
        Ok(self.finish_get(name, &bytes, gzipped, generation_header, max).await)
    }

    async fn finish_get(
        &self,
        name: &str,
        bytes: &[u8],
        gzipped: bool,
        generation_header: Option<i64>,
        max: u64,
    ) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        // Cloud Storage decompresses gzip-encoded objects for clients that do not ask for gzip
        // (reqwest here does not); decode ourselves in case a server sends them encoded anyway.
        let bytes = if gzipped { super::gunzip(bytes, max)? } else { bytes.to_vec() };
        let generation = match generation_header {
            Some(g) => g,
            // Without the header, read the generation separately. If the object changed in
            // between, our later conditional write fails instead of overwriting: still safe.
            None => self.stat(name).await?.map(|i| i.generation).unwrap_or(0),
        };
        Ok(Some((bytes, generation)))
    }

    pub async fn put(&self, put: &Put<'_>) -> Result<i64, StoreError> {
        let what = format!("uploading {}", put.name);
        let (body_bytes, encoding) = match put.encoding {
            Encoding::Gzip => (super::gzip(put.bytes)?, Some("gzip")),
            Encoding::Identity => (put.bytes.to_vec(), None),
        };
        let sha256 = crate::publish::layout::sha256_hex(put.bytes);
        let mut meta = serde_json::json!({
            "name": self.full_name(put.name),
            "contentType": put.content_type,
            "cacheControl": put.cache_control,
            "metadata": { SHA256_KEY: sha256 },
        });
        if let Some(enc) = encoding {
            meta["contentEncoding"] = serde_json::Value::from(enc);
        }
        let boundary = format!("playalike-{:016x}", super::file::content_generation(&body_bytes));
        let mut body = Vec::with_capacity(body_bytes.len() + 512);
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{meta}\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: {}\r\n\r\n", put.content_type).as_bytes(),
        );
        body.extend_from_slice(&body_bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let url = format!("{}/upload/storage/v1/b/{}/o", self.endpoint, encode_segment(&self.bucket));
        let generation = put.if_generation_match.to_string();
        // Safe to repeat: the precondition refuses a second write (see the module doc).
        let (resp, maybe_applied) = self
            .send_tracked(&what, true, || {
                self.http
                    .post(&url)
                    .query(&[("uploadType", "multipart"), ("ifGenerationMatch", generation.as_str())])
                    .header("Content-Type", format!("multipart/related; boundary={boundary}"))
                    .body(body.clone())
            })
            .await?;
        if resp.status().as_u16() == 412 && maybe_applied {
            // Did an earlier attempt land? Then the object holds exactly these bytes.
            if let Some(obj) = self.resource(put.name).await?
                && obj.metadata.as_ref().and_then(|m| m.get(SHA256_KEY)) == Some(&sha256)
            {
                tracing::info!(
                    "{}: an earlier attempt had landed (its answer was lost); keeping it",
                    put.name
                );
                return Ok(as_i64(&obj.generation));
            }
        }
        if !resp.status().is_success() {
            return Err(self.fail(resp, &what, put.if_generation_match, put.name).await);
        }
        let obj: ObjectResource = api_json(resp, &what, "upload answer").await?;
        Ok(as_i64(&obj.generation))
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let what = format!("listing {prefix}*");
        let url = format!("{}/storage/v1/b/{}/o", self.endpoint, encode_segment(&self.bucket));
        let full_prefix = self.full_name(prefix);
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let resp = self
                .send(&what, true, || {
                    let mut q = vec![("prefix", full_prefix.clone())];
                    if let Some(p) = &page {
                        q.push(("pageToken", p.clone()));
                    }
                    self.http.get(&url).query(&q)
                })
                .await?;
            if !resp.status().is_success() {
                return Err(self.fail(resp, &what, 0, prefix).await);
            }
            let list: ListResponse = api_json(resp, &what, "listing").await?;
            out.extend(list.items.into_iter().map(|o| ObjectInfo {
                name: self.relative_name(&o.name),
                generation: as_i64(&o.generation),
                size: as_i64(&o.size) as u64,
            }));
            match list.next_page_token {
                Some(t) if !t.is_empty() => page = Some(t),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub async fn delete(&self, name: &str) -> Result<(), StoreError> {
        let what = format!("deleting {name}");
        let url = self.object_url(name);
        let resp = self.send(&what, true, || self.http.delete(&url)).await?;
        if resp.status().as_u16() == 404 {
            return self.missing_object_or_bucket(resp, &what).await;
        }
        if !resp.status().is_success() {
            return Err(self.fail(resp, &what, 0, name).await);
        }
        Ok(())
    }
}

/// Why a body was not read.
enum BodyError {
    /// Over the cap (what was seen: the announced length or the bytes read so far).
    TooLarge(String),
    /// The connection failed mid-body.
    Cut(reqwest::Error),
}

/// Reads a body of at most `max` bytes: an announced `Content-Length` over the cap is refused
/// before anything is read, and the body is read chunk by chunk, stopping one chunk past it.
async fn read_body(mut resp: reqwest::Response, max: u64) -> Result<Vec<u8>, BodyError> {
    if let Some(n) = resp.content_length().filter(|n| *n > max) {
        return Err(BodyError::TooLarge(format!("announced as {n} bytes")));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Cut)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > max {
            return Err(BodyError::TooLarge(format!("more than {max} bytes sent")));
        }
    }
    Ok(bytes)
}

/// Parses a JSON answer of the API, read with a cap.
async fn api_json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    what: &str,
    kind: &str,
) -> Result<T, StoreError> {
    let bytes = match read_body(resp, MAX_API_JSON).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(n)) => {
            return Err(super::too_large(&format!("{kind} while {what}, {n}"), MAX_API_JSON));
        }
        Err(BodyError::Cut(e)) => {
            return Err(StoreError::Other(format!("{kind} cut short while {what}: {}", error_chain(&e))));
        }
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Other(format!("malformed {kind} while {what}: {e}")))
}

/// The start of an error answer (enough for an excerpt), never more than [`MAX_ERROR_BODY`].
async fn error_body(mut resp: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 >= MAX_ERROR_BODY {
            bytes.truncate(MAX_ERROR_BODY as usize);
            break;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A download whose body was cut short (worth another attempt), with its message.
struct Interrupted(String);

/// The error and its sources on one line (reqwest's Display hides the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_object_names() {
        assert_eq!(encode_segment("models/v1/model.bin"), "models%2Fv1%2Fmodel.bin");
        assert_eq!(encode_segment("a b+c"), "a%20b%2Bc");
    }

    #[test]
    fn reads_int64_as_string_or_number() {
        assert_eq!(as_i64(&Some(serde_json::json!("1700000000000001"))), 1_700_000_000_000_001);
        assert_eq!(as_i64(&Some(serde_json::json!(7))), 7);
        assert_eq!(as_i64(&None), 0);
    }
}
