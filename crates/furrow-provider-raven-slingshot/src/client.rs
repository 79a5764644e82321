//! Signed requests to Slingshot.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use furrow_credentials::Provider as ProviderKind;
use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use furrow_provider::{
    AuthedClient, BoxFuture, ByteStream, Capabilities, Capability, FilePage, HttpClient,
    IMPLICIT_ORG, Provider, ProviderContext, Request, RequestAuth, Response, Result, Secrets,
    check_login, decode_cursor, encode_cursor, rfc3339, unsupported,
};
use hmac::{Hmac, Mac};
use time::OffsetDateTime;

use crate::config::{RATE_LIMIT, SlingshotConfig};
use crate::convert::{self, Index, Status};
use crate::error::SlingshotError;

const KIND: ProviderKind = ProviderKind::RavenSlingshot;

/// The text Slingshot signs: `METHOD\r\nhost\r\npath\r\ntimestamp\r\napiKey\r\naccessKey\r\n`, host and path
/// lower-cased, keys as issued (providers.md 7.1).
pub(crate) fn string_to_sign(
    method: &str,
    host: &str,
    path: &str,
    timestamp: i64,
    api_key: &str,
    access_key: &str,
) -> String {
    format!(
        "{}\r\n{}\r\n{}\r\n{timestamp}\r\n{api_key}\r\n{access_key}\r\n",
        method.to_uppercase(),
        host.to_lowercase(),
        path.to_lowercase()
    )
}

/// `base64(HMAC-SHA1(key, text))`.
pub(crate) fn hmac_sha1_base64(key: &[u8], text: &str) -> String {
    // HMAC takes keys of any length: this never fails; an empty signature would be refused (401).
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `base64(HMAC-SHA1(key, METHOD\r\nhost\r\npath\r\ntimestamp\r\napiKey\r\naccessKey\r\n))`, host and path
/// lower-cased (providers.md 7.1).
pub fn signature(
    key: &[u8],
    method: &str,
    host: &str,
    path: &str,
    timestamp: i64,
    api_key: &str,
    access_key: &str,
) -> String {
    hmac_sha1_base64(
        key,
        &string_to_sign(method, host, path, timestamp, api_key, access_key),
    )
}

/// Signs every request; there is no token to renew.
#[derive(Debug)]
struct Signer {
    http: HttpClient,
    base: String,
    key: Vec<u8>,
    api_key: String,
    access_key: String,
}

impl Signer {
    fn sign(&self, req: &mut Request) {
        let (host, path) = match url::Url::parse(&req.url) {
            Ok(u) => {
                let host = match u.port() {
                    Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                    None => u.host_str().unwrap_or_default().to_owned(),
                };
                (host, u.path().to_owned())
            }
            Err(_) => (String::new(), String::new()),
        };
        let ts = OffsetDateTime::now_utc().unix_timestamp();
        let sig = signature(
            &self.key,
            req.method.as_str(),
            &host,
            &path,
            ts,
            &self.api_key,
            &self.access_key,
        );
        req.set_header("X-SS-APIKey", self.api_key.clone());
        req.set_header("X-SS-AccessKey", self.access_key.clone());
        req.set_header("X-SS-TimeStamp", ts.to_string());
        req.set_header("X-SS-Signature", sig);
    }
}

impl RequestAuth for Signer {
    fn apply<'a>(&'a self, req: &'a mut Request) -> BoxFuture<'a, Result<Option<String>>> {
        self.sign(req);
        Box::pin(std::future::ready(Ok(None)))
    }

    fn rejected<'a>(&'a self, _used: Option<&'a str>) -> BoxFuture<'a, Result<bool>> {
        // A refused signature or access key does not get better by retrying.
        Box::pin(std::future::ready(Ok(false)))
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        Box::pin(async move {
            let mut req = Request::get(format!("{}/AccessKey", self.base))
                .header("Accept", "application/json");
            self.sign(&mut req);
            check_login(KIND, self.http.send_raw(&req).await?, self.http.redactor())?;
            Ok(Secrets::new())
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Client {
    api: AuthedClient,
    config: SlingshotConfig,
}

impl Client {
    pub(crate) fn new(ctx: ProviderContext, config: SlingshotConfig) -> Result<Self> {
        let secret = ctx.require(KIND, "sharedSecret")?;
        let key = if config.decode_secret {
            base64::engine::general_purpose::STANDARD
                .decode(secret.trim())
                .map_err(|_| SlingshotError::BadSecret)?
        } else {
            secret.into_bytes()
        };
        let mut http_config = ctx.http.clone();
        if http_config.rate_limit.is_none() && http_config.shared_limiter.is_none() {
            http_config.rate_limit = Some(RATE_LIMIT);
        }
        let http = HttpClient::new(
            KIND,
            http_config,
            ctx.events.clone(),
            ctx.secret_values(KIND),
        )?;
        let signer = Signer {
            http: http.clone(),
            base: config.api_base.clone(),
            key,
            api_key: ctx.require(KIND, "apiKey")?,
            access_key: ctx.require(KIND, "accessKey")?,
        };
        Ok(Client {
            api: AuthedClient::new(http, Arc::new(signer)),
            config,
        })
    }

    async fn machine_files(
        &self,
        org: &str,
        since: Option<OffsetDateTime>,
        cursor: Option<&str>,
    ) -> Result<FilePage> {
        let (since, page) = match cursor {
            Some(c) => {
                let (s, p) = decode_cursor(KIND.slug(), c)?;
                (
                    s,
                    p.parse::<u32>()
                        .map_err(|_| furrow_provider::Error::protocol(KIND.slug(), "bad cursor"))?,
                )
            }
            None => (since.map(|t| t.unix_timestamp()), 0),
        };
        let (page_s, size_s) = (page.to_string(), self.config.page_size.to_string());
        let since_s = since.map(rfc3339);
        let mut q = vec![("page", page_s.as_str()), ("pageSize", size_s.as_str())];
        if let Some(s) = &since_s {
            q.push(("date", s.as_str()));
        }
        let req = Request::get(format!("{}/JobData", self.config.api_base))
            .header("Accept", self.accept())
            .query(&q);
        let resp = self.api.send(&req).await?;
        let index: Index = if is_json(&resp) {
            resp.json(KIND)?
        } else {
            Index::from_xml(&resp.body).map_err(|e| SlingshotError::Xml("JobData index", e))?
        };
        Ok(FilePage {
            next_cursor: index
                .is_next_page
                .then(|| encode_cursor(since, &(page + 1).to_string())),
            changes_cursor: None,
            files: index
                .job_data
                .into_iter()
                .map(|j| convert::file(j, org))
                .collect(),
        })
    }

    async fn download(&self, file: &MachineFileDescriptor) -> Result<ByteStream> {
        let req = Request::get(format!("{}/JobData/{}", self.config.api_base, file.id))
            .header("Accept", self.accept())
            .query(&[("format", self.config.download_format.as_str())]);
        for _ in 0..self.config.max_polls {
            let resp = self.api.send(&req).await?;
            // A conversion status comes as a document; the file itself as a zip.
            let status: Option<Status> = if is_json(&resp) {
                Some(resp.json(KIND)?)
            } else if is_xml(&resp) {
                Some(
                    Status::from_xml(&resp.body)
                        .map_err(|e| SlingshotError::Xml("SlingshotResponse", e))?,
                )
            } else {
                None
            };
            if let Some(status) = status {
                match status.status.as_str() {
                    "MORE_TIME_NEEDED" => {
                        let wait = status
                            .error_info
                            .as_deref()
                            .and_then(convert::timespan)
                            .unwrap_or(30);
                        tokio::time::sleep(Duration::from_secs(wait.clamp(1, 600))).await;
                        continue;
                    }
                    "NO_COVERAGE" => return Err(SlingshotError::NoCoverage(file.id.clone()).into()),
                    other => {
                        return Err(furrow_provider::Error::protocol(
                            KIND.slug(),
                            format!("conversion status {other}"),
                        ));
                    }
                }
            }
            let body = resp.body;
            return Ok(Box::pin(futures_util::stream::iter([Ok(body)])));
        }
        Err(SlingshotError::NotReady(file.id.clone(), self.config.max_polls).into())
    }
}

impl Client {
    fn accept(&self) -> &'static str {
        if self.config.json {
            "application/json"
        } else {
            "application/xml"
        }
    }
}

fn content_type(resp: &Response) -> String {
    resp.header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn is_json(resp: &Response) -> bool {
    content_type(resp).contains("json")
}

fn is_xml(resp: &Response) -> bool {
    content_type(resp).contains("xml")
}

impl Provider for Client {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            organizations: false,
            fields: false,
            boundaries: false,
            ..Capabilities::FULL
        }
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        self.api.auth.authenticate()
    }

    fn organizations(&self) -> BoxFuture<'_, Result<Vec<ProviderOrganization>>> {
        Box::pin(std::future::ready(Ok(vec![ProviderOrganization {
            id: IMPLICIT_ORG.to_owned(),
            name: KIND.display_name().to_owned(),
            connected: true,
            connection_uri: None,
        }])))
    }

    fn fields<'a>(
        &'a self,
        _organization_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ProviderField>>> {
        unsupported(KIND, Capability::Fields)
    }

    fn machine_files<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FilePage>> {
        Box::pin(Client::machine_files(self, organization_id, since, cursor))
    }

    fn download<'a>(
        &'a self,
        file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        Box::pin(Client::download(self, file))
    }
}
