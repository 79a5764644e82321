//! Requests to the Climate Platform API.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use furrow_provider::{
    AuthedClient, BoxFuture, ByteStream, Capabilities, ClientAuth, DownloadMode, FilePage,
    HttpClient, IMPLICIT_ORG, OAuthConfig, OAuthRefresh, Provider, ProviderContext, Request,
    Response, Result, Secrets, TokenManager, TokenPlacement, WithHeaders, check_status,
    decode_cursor, download, encode_cursor, rfc3339,
};
use http::StatusCode;
use serde_json::json;
use time::OffsetDateTime;

use crate::config::ClimateConfig;
use crate::convert::{self, Activity, FeatureCollection, Field, KINDS, Results};
use crate::error::ClimateError;

const KIND: ProviderKind = ProviderKind::ClimateFieldView;
/// Restarts of one listing after expired page tokens (`409`) before giving up.
const MAX_RESTARTS: u32 = 2;

#[derive(Debug, Clone)]
pub(crate) struct Client {
    api: AuthedClient,
    config: ClimateConfig,
}

/// The OAuth settings of the credential's app.
pub(crate) fn oauth(ctx: &ProviderContext, config: &ClimateConfig) -> Result<OAuthConfig> {
    let mut o = OAuthConfig::new(
        ctx.require(KIND, "clientId")?,
        Some(ctx.require(KIND, "clientSecret")?),
        config.token_url.clone(),
    );
    o.client_auth = ClientAuth::Basic;
    o.auth_url = Some(config.auth_url.clone());
    o.scopes = config.scopes.clone();
    Ok(o)
}

impl Client {
    pub(crate) fn new(ctx: ProviderContext, config: ClimateConfig) -> Result<Self> {
        let oauth = oauth(&ctx, &config)?;
        let api_key = ctx.require(KIND, "apiKey")?;
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
        let auth = WithHeaders::new(Arc::new(tokens), vec![("X-Api-Key".into(), api_key)]);
        Ok(Client {
            api: AuthedClient::new(http, Arc::new(auth)),
            config,
        })
    }

    /// One header-cursor page: (body, next token). `None` body on 304. A `409` (the `X-Next-Token` expired
    /// [C]) is [`ClimateError::ExpiredPageToken`]: the caller restarts the listing.
    async fn page(
        &self,
        req: Request,
        token: Option<&str>,
    ) -> Result<std::result::Result<(Option<Response>, Option<String>), ClimateError>> {
        let mut req = req
            .header("X-Limit", self.config.page_limit.to_string())
            .header("Accept", "application/json");
        if let Some(t) = token {
            req = req.header("X-Next-Token", t);
        }
        let resp = self.api.send_raw(&req).await?;
        Ok(Ok(match resp.status {
            StatusCode::NOT_MODIFIED => (None, None),
            StatusCode::CONFLICT => return Ok(Err(ClimateError::ExpiredPageToken)),
            StatusCode::PARTIAL_CONTENT => {
                let next = resp.header("x-next-token").map(str::to_owned);
                (Some(resp), next)
            }
            _ => (
                Some(check_status(KIND, resp, self.api.http.redactor())?),
                None,
            ),
        }))
    }

    async fn fields(&self, org: &str) -> Result<Vec<ProviderField>> {
        let url = format!("{}/v4/fields", self.config.api_base);
        let mut fields: Vec<Field> = Vec::new();
        let mut token: Option<String> = None;
        let mut restarts = 0;
        loop {
            let (resp, next) = match self.page(Request::get(&url), token.as_deref()).await? {
                Ok(page) => page,
                // The page token expired mid-listing: start again from the first page.
                Err(ClimateError::ExpiredPageToken)
                    if token.is_some() && restarts < MAX_RESTARTS =>
                {
                    restarts += 1;
                    fields.clear();
                    token = None;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(r) = resp {
                fields.extend(r.json::<Results<Field>>(KIND)?.results);
            }
            match next {
                Some(n) if Some(&n) != token.as_ref() => token = Some(n),
                _ => break,
            }
        }
        let ids: Vec<String> = fields
            .iter()
            .filter_map(|f| f.boundary_id.clone())
            .collect();
        let mut features = Vec::new();
        for chunk in ids.chunks(10) {
            let req = Request::post(format!("{}/v4/boundaries/query", self.config.api_base))
                .json(&json!({"ids": chunk}));
            let fc: FeatureCollection = self.api.json(&req).await?;
            features.extend(fc.features);
        }
        Ok(fields
            .into_iter()
            .map(|f| {
                let b = f
                    .boundary_id
                    .as_ref()
                    .and_then(|id| features.iter().find(|x| &x.id == id))
                    .and_then(convert::boundary);
                convert::field(f, org, b)
            })
            .collect())
    }

    /// The cursor walks the three layers in order: `kind_index:token`.
    async fn machine_files(
        &self,
        org: &str,
        since: Option<OffsetDateTime>,
        cursor: Option<&str>,
    ) -> Result<FilePage> {
        let (since, mut kind, mut token) = match cursor {
            Some(c) => {
                let (s, t) = decode_cursor(KIND.slug(), c)?;
                let (k, tok) = t
                    .split_once(':')
                    .ok_or_else(|| furrow_provider::Error::protocol(KIND.slug(), "bad cursor"))?;
                let k: usize = k
                    .parse()
                    .map_err(|_| furrow_provider::Error::protocol(KIND.slug(), "bad cursor"))?;
                (s, k, (!tok.is_empty()).then(|| tok.to_owned()))
            }
            None => (since.map(|t| t.unix_timestamp()), 0, None),
        };
        let mut restarts = 0;
        while kind < KINDS.len() {
            let mut req = Request::get(format!(
                "{}/v4/layers/{}",
                self.config.api_base, KINDS[kind]
            ));
            if let Some(s) = since {
                req = req.query(&[("occurredAfter", &rfc3339(s))]);
            }
            let (resp, next) = match self.page(req, token.as_deref()).await? {
                Ok(page) => page,
                // An expired (stored) page token: list this layer again from its first page with the same
                // `since`; files already returned come again, which callers treat as already seen.
                Err(ClimateError::ExpiredPageToken)
                    if token.is_some() && restarts < MAX_RESTARTS =>
                {
                    restarts += 1;
                    token = None;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let files: Vec<MachineFileDescriptor> = match resp {
                Some(r) => r
                    .json::<Results<Activity>>(KIND)?
                    .results
                    .into_iter()
                    .filter(convert::plausible)
                    .map(|a| convert::file(a, KINDS[kind], org))
                    .collect(),
                None => Vec::new(),
            };
            let next_cursor = match next {
                Some(n) => Some((kind, n)),
                None if kind + 1 < KINDS.len() => Some((kind + 1, String::new())),
                None => None,
            };
            if files.is_empty()
                && let Some((k, t)) = &next_cursor
            {
                // Skip empty pages within one call.
                kind = *k;
                token = (!t.is_empty()).then(|| t.clone());
                continue;
            }
            return Ok(FilePage {
                files,
                next_cursor: next_cursor.map(|(k, t)| encode_cursor(since, &format!("{k}:{t}"))),
                changes_cursor: None,
            });
        }
        Ok(FilePage::default())
    }

    fn download(&self, file: &MachineFileDescriptor) -> Result<ByteStream> {
        let kind = file
            .download_ref
            .clone()
            .ok_or_else(|| ClimateError::NoKind(file.id.clone()))?;
        let req = Request::get(format!(
            "{}/v4/layers/{kind}/{}/contents",
            self.config.api_base, file.id
        ))
        .header("Accept", "application/zip");
        Ok(download(
            self.api.clone(),
            req,
            DownloadMode::Ranged {
                chunk: self.config.chunk_size,
            },
            file.size,
        ))
    }
}

impl Provider for Client {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            organizations: false,
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
        Box::pin(std::future::ready(Client::download(self, file)))
    }
}
