//! Requests to the Operations Center.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use furrow_provider::{
    AuthedClient, BoxFuture, ByteStream, Capabilities, ClientAuth, DownloadMode, FilePage,
    HttpClient, OAuthConfig, OAuthRefresh, Provider, ProviderContext, Request, Result, Secrets,
    TokenManager, TokenPlacement, decode_cursor, download, encode_cursor, rfc3339,
};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::config::JohnDeereConfig;
use crate::convert::{self, Boundary, Field, File, Organization, Page};
use crate::error::JdError;

const KIND: ProviderKind = ProviderKind::JohnDeere;
const AXIOM: &str = "application/vnd.deere.axiom.v3+json";

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

    async fn machine_files(
        &self,
        org: &str,
        since: Option<OffsetDateTime>,
        cursor: Option<&str>,
    ) -> Result<FilePage> {
        let (since, url) = match cursor {
            Some(c) => {
                let (s, url) = decode_cursor(KIND.slug(), c)?;
                self.check_link(&url)?;
                (s, url)
            }
            None => {
                let s = since.map(|t| t.unix_timestamp());
                (
                    s,
                    format!("{}/organizations/{org}/files", self.config.api_base),
                )
            }
        };
        let mut req = Request::get(url.clone()).header("Accept", AXIOM);
        if let Some(s) = since
            && !url.contains("startDate=")
        {
            req = req.query(&[("startDate", &rfc3339(s))]);
        }
        let page: Page<File> = self.api.json(&req).await?;
        let next = match page.next() {
            Some(n) => {
                self.check_link(n)?;
                Some(encode_cursor(since, n))
            }
            None => None,
        };
        Ok(FilePage {
            files: page
                .values
                .into_iter()
                .map(|f| convert::file(f, org))
                .collect(),
            next_cursor: next,
        })
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
        Box::pin(Client::machine_files(self, organization_id, since, cursor))
    }

    fn download<'a>(
        &'a self,
        file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        Box::pin(std::future::ready(Ok(Client::download(self, file))))
    }
}
