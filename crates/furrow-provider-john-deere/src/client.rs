//! Requests to the Operations Center.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use furrow_provider::{
    AuthedClient, BoxFuture, ByteStream, Capabilities, ClientAuth, DownloadMode, FilePage,
    HttpClient, NoAuth, OAuthConfig, OAuthRefresh, Provider, ProviderContext, Request, Result,
    Secrets, TokenManager, TokenPlacement, check_status, decode_cursor, download, encode_cursor,
    rfc3339,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::JohnDeereConfig;
use crate::convert::{self, Boundary, Field, File, Organization, Page};
use crate::error::JdError;

const KIND: ProviderKind = ProviderKind::JohnDeere;
const AXIOM: &str = "application/vnd.deere.axiom.v3+json";
/// Change tracking of file lists [C] (providers.md 1.4).
const SIGNATURE: &str = "x-deere-signature";

/// Where a file listing is: the page to fetch, the `x-deere-signature` to send with it (empty on a first
/// listing) and the signature the first page of this listing answered (kept for the next listing).
#[derive(Debug, Serialize, Deserialize)]
struct FilesCursor {
    #[serde(rename = "u")]
    url: String,
    #[serde(rename = "s", default)]
    sent: String,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    received: Option<String>,
}

impl FilesCursor {
    fn encode(&self, since: Option<i64>) -> String {
        // Serialising three strings cannot fail.
        encode_cursor(since, &serde_json::to_string(self).unwrap_or_default())
    }

    /// A stored cursor; a bare URL is a page cursor of a listing without a signature.
    fn decode(token: String) -> Self {
        serde_json::from_str(&token).unwrap_or(FilesCursor {
            url: token,
            sent: String::new(),
            received: None,
        })
    }
}
#[derive(Debug, Clone)]
pub(crate) struct Client {
    api: AuthedClient,
    config: JohnDeereConfig,
}

impl Client {
    pub(crate) fn new(ctx: ProviderContext, config: JohnDeereConfig) -> Result<Self> {
        let oauth = oauth(&ctx, &config)?;
        ctx.require(KIND, "refreshToken")?;
        let http = HttpClient::new(
            KIND,
            ctx.http.clone(),
            ctx.events.clone(),
            ctx.secret_values(KIND),
        )?;
        let tokens = TokenManager::new(
            http.clone(),
            OAuthRefresh::new(oauth),
            ctx.secrets.clone(),
            ctx.credential.clone(),
            TokenPlacement::Bearer,
        );
        Ok(Client {
            api: AuthedClient::new(http, Arc::new(tokens)),
            config,
        })
    }

    /// Only the API host gets the token (providers.md 1.9).
    fn check_link(&self, uri: &str) -> Result<()> {
        let origin = |u: &str| u.split('/').take(3).collect::<Vec<_>>().join("/");
        if origin(uri) == origin(&self.config.api_base) {
            Ok(())
        } else {
            Err(JdError::ForeignLink.into())
        }
    }

    async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        self.api
            .json(&Request::get(url).header("Accept", AXIOM))
            .await
    }

    /// Every page of a HAL list.
    async fn all<T: DeserializeOwned>(&self, url: String) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let page: Page<T> = self.get(&url).await?;
            if let Some(n) = page.next() {
                self.check_link(n)?;
                next = Some(n.to_owned());
            }
            out.extend(page.values);
        }
        Ok(out)
    }

    async fn organizations(&self) -> Result<Vec<ProviderOrganization>> {
        let orgs: Vec<Organization> = self
            .all(format!("{}/organizations", self.config.api_base))
            .await?;
        Ok(orgs.into_iter().map(convert::organization).collect())
    }

    async fn fields(&self, org: &str) -> Result<Vec<ProviderField>> {
        let base = format!("{}/organizations/{org}", self.config.api_base);
        let fields: Vec<Field> = match self.all(format!("{base}/fields")).await {
            Err(e) if e.kind() == furrow_provider::ErrorKind::LimitedPermission => {
                return Err(JdError::NotConnected(org.to_owned()).into());
            }
            other => other?,
        };
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            let url = format!("{base}/fields/{}/boundaries?embed=multipolygons", f.id);
            let boundaries: Vec<Boundary> = self.all(url).await?;
            let b = boundaries
                .iter()
                .find(|b| b.active)
                .or(boundaries.first())
                .and_then(convert::boundary);
            out.push(convert::field(f, org, b));
        }
        Ok(out)
    }

    /// The field operations of every field of an organization, as machine files (their shapefile exports).
    async fn field_operation_files(
        &self,
        org: &str,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<MachineFileDescriptor>> {
        let base = format!("{}/organizations/{org}", self.config.api_base);
        let fields: Vec<Field> = self.all(format!("{base}/fields")).await?;
        let mut out = Vec::new();
        for f in fields {
            let url = format!("{base}/fields/{}/fieldOperations", f.id);
            let ops: Vec<convert::FieldOperation> = self.all(url).await?;
            out.extend(
                ops.into_iter()
                    .map(|op| convert::field_operation(op, org))
                    .filter(|d| {
                        // The same `since` as the files: by when John Deere last changed the operation.
                        let at = d.created_time.as_deref().and_then(|t| {
                            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                                .ok()
                        });
                        match (since, at) {
                            (Some(s), Some(at)) => at >= s,
                            _ => true,
                        }
                    }),
            );
        }
        Ok(out)
    }

    /// One page of an organization's files. A first listing sends an empty `x-deere-signature`; the
    /// signature its first page answers comes back as [`FilePage::changes_cursor`] on the last page, and a
    /// listing from that cursor returns only what changed since (nothing, on `304`).
    async fn machine_files(
        &self,
        org: &str,
        since: Option<OffsetDateTime>,
        cursor: Option<&str>,
    ) -> Result<FilePage> {
        let list_url = format!("{}/organizations/{org}/files", self.config.api_base);
        let (since, at) = match cursor {
            Some(c) => {
                let (s, token) = decode_cursor(KIND.slug(), c)?;
                let at = FilesCursor::decode(token);
                self.check_link(&at.url)?;
                (s, at)
            }
            None => (
                since.map(|t| t.unix_timestamp()),
                FilesCursor {
                    url: list_url.clone(),
                    sent: String::new(),
                    received: None,
                },
            ),
        };
        let mut req = Request::get(at.url.clone())
            .header("Accept", AXIOM)
            .header(SIGNATURE, at.sent.clone());
        if let Some(s) = since
            && !at.url.contains("startDate=")
        {
            req = req.query(&[("startDate", &rfc3339(s))]);
        }
        let resp = self.api.send(&req).await?;
        let answered = resp
            .header(SIGNATURE)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if resp.status.as_u16() == 304 {
            let keep = FilesCursor {
                url: list_url,
                sent: answered.unwrap_or(at.sent),
                received: None,
            };
            return Ok(FilePage {
                files: Vec::new(),
                next_cursor: None,
                changes_cursor: Some(keep.encode(since)),
            });
        }
        let page: Page<File> = resp.json(KIND)?;
        // The first page's signature: changes made while the listing pages through are listed again next
        // time rather than missed.
        let received = at.received.or(answered);
        let (next_cursor, changes_cursor) = match page.next() {
            Some(n) => {
                self.check_link(n)?;
                let next = FilesCursor {
                    url: n.to_owned(),
                    sent: at.sent,
                    received,
                };
                (Some(next.encode(since)), None)
            }
            None => {
                let changes = received.map(|r| FilesCursor {
                    url: list_url,
                    sent: r,
                    received: None,
                });
                (None, changes.map(|c| c.encode(since)))
            }
        };
        Ok(FilePage {
            files: page
                .values
                .into_iter()
                .map(|f| convert::file(f, org))
                .collect(),
            next_cursor,
            changes_cursor,
        })
    }

    /// The shapefile export of a field operation (providers.md 1.5): `202` while JD builds it, polled after
    /// `export_poll_base × 2^(attempt−1)`; then `307` to a pre-signed URL, fetched **without** the
    /// `Authorization` header; `406` when no shapefile is possible.
    pub(crate) async fn shapefile(&self, operation_id: &str) -> Result<ByteStream> {
        let req = Request::get(format!("{}/fieldOps/{operation_id}", self.config.api_base))
            .header("Accept", AXIOM)
            .header("Accept-UOM-System", "MIXED");
        let mut waited = std::time::Duration::ZERO;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let resp = self.api.send_raw(&req).await?;
            match resp.status.as_u16() {
                202 => {
                    let wait = self
                        .config
                        .export_poll_base
                        .saturating_mul(1u32 << (attempt - 1).min(16));
                    if waited + wait > self.config.export_max_wait {
                        return Err(JdError::ExportNotReady(
                            operation_id.to_owned(),
                            waited.as_secs(),
                        )
                        .into());
                    }
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                302 | 303 | 307 => {
                    let location = resp
                        .header("location")
                        .filter(|l| !l.is_empty())
                        .ok_or_else(|| JdError::NoLocation(operation_id.to_owned()))?;
                    let url = if location.starts_with('/') {
                        let origin: Vec<&str> = self.config.api_base.split('/').take(3).collect();
                        format!("{}{location}", origin.join("/"))
                    } else {
                        location.to_owned()
                    };
                    // A pre-signed URL carries its own authorization: the bearer token must not go with it.
                    let unauthenticated =
                        AuthedClient::new(self.api.http.clone(), Arc::new(NoAuth));
                    return Ok(download(
                        unauthenticated,
                        Request::get(url),
                        DownloadMode::Whole,
                        None,
                    ));
                }
                406 => {
                    return Err(JdError::NoShapefile(operation_id.to_owned()).into());
                }
                _ => {
                    check_status(KIND, resp, self.api.http.redactor())?;
                    return Err(furrow_provider::Error::protocol(
                        KIND.slug(),
                        "shapefile export answered neither 202 nor 307",
                    ));
                }
            }
        }
    }

    fn download(&self, file: &MachineFileDescriptor) -> ByteStream {
        let req = Request::get(format!("{}/files/{}", self.config.api_base, file.id))
            .header("Accept", "application/zip");
        let mode = match file.size {
            Some(s) if s >= self.config.chunk_threshold => DownloadMode::Ranged {
                chunk: self.config.chunk_size,
            },
            _ => DownloadMode::Whole,
        };
        download(self.api.clone(), req, mode, file.size)
    }
}

/// The OAuth settings of the credential's app.
pub(crate) fn oauth(ctx: &ProviderContext, config: &JohnDeereConfig) -> Result<OAuthConfig> {
    let mut o = OAuthConfig::new(
        ctx.require(KIND, "clientKey")?,
        Some(ctx.require(KIND, "clientSecret")?),
        config.token_url.clone(),
    );
    o.client_auth = ClientAuth::Basic;
    o.auth_url = Some(config.auth_url.clone());
    o.scopes = config.scopes.clone();
    o.scopes_on_refresh = true;
    Ok(o)
}

impl Provider for Client {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            webhooks: true,
            ..Capabilities::FULL
        }
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        self.api.auth.authenticate()
    }

    fn organizations(&self) -> BoxFuture<'_, Result<Vec<ProviderOrganization>>> {
        Box::pin(Client::organizations(self))
    }

    fn fields<'a>(&'a self, organization_id: &'a str) -> BoxFuture<'a, Result<Vec<ProviderField>>> {
        Box::pin(Client::fields(self, organization_id))
    }

    fn machine_files<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FilePage>> {
        Box::pin(async move {
            let mut page = Client::machine_files(self, organization_id, since, cursor).await?;
            // The files are the displays' own (proprietary formats, ISOXML from ISO displays); what John Deere
            // made of them comes as field operations, exported as shapefiles: listed with the last page.
            if page.next_cursor.is_none() {
                page.files
                    .extend(self.field_operation_files(organization_id, since).await?);
            }
            Ok(page)
        })
    }

    fn download<'a>(
        &'a self,
        file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        Box::pin(async move {
            match file
                .download_ref
                .as_deref()
                .and_then(|r| r.strip_prefix(convert::FIELD_OPERATION_REF))
            {
                Some(op) => self.shapefile(op).await,
                None => Ok(Client::download(self, file)),
            }
        })
    }
}
