//! Session login and GraphQL calls.

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider as ProviderKind;
use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use furrow_provider::{
    AuthedClient, BoxFuture, ByteStream, Capabilities, Capability, Error, FilePage, HttpClient,
    ImageryLayer, Issued, Provider, ProviderContext, Request, Result, Secrets, TokenManager,
    TokenPlacement, TokenSource, check_login, unsupported,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::config::SenteraConfig;
use crate::convert::{self, Answer, FIELDS, IMAGERY, Item, ORGANIZATIONS, Paged};
use crate::error::SenteraError;

const KIND: ProviderKind = ProviderKind::Sentera;
/// Legacy session tokens last three months [C].
const SESSION_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

/// `POST /v1/sessions` → `{auth_token}`.
#[derive(Debug)]
struct Session {
    url: String,
}

impl TokenSource for Session {
    fn issue<'a>(
        &'a self,
        http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>> {
        Box::pin(async move {
            let get = |k: &str| {
                current.get(k).cloned().ok_or_else(|| {
                    Error::unauthenticated(KIND.slug(), format!("credential has no `{k}`"))
                })
            };
            let body = json!({"session": {"email": get("username")?, "password": get("password")?,
                                          "platform_id": "API", "version_id": "1.0.0"}});
            let v: Value = check_login(
                KIND,
                http.send_raw(&Request::post(&self.url).json(&body)).await?,
                http.redactor(),
            )?
            .json(KIND)?;
            let token = v["auth_token"]
                .as_str()
                .ok_or(SenteraError::NoToken)?
                .to_owned();
            let mut updates = Secrets::new();
            updates.insert("authToken".into(), token.clone());
            Ok(Issued {
                access_token: token,
                expires_in: Some(SESSION_LIFETIME),
                updates,
            })
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Client {
    api: AuthedClient,
    config: SenteraConfig,
}

impl Client {
    pub(crate) fn new(ctx: ProviderContext, config: SenteraConfig) -> Result<Self> {
        ctx.require(KIND, "username")?;
        ctx.require(KIND, "password")?;
        let http = HttpClient::new(
            KIND,
            ctx.http.clone(),
            ctx.events.clone(),
            ctx.secret_values(KIND),
        )?;
        let tokens = TokenManager::new(
            http.clone(),
            Session {
                url: format!("{}/v1/sessions", config.api_base),
            },
            ctx.secrets.clone(),
            ctx.credential.clone(),
            TokenPlacement::Bearer,
        );
        Ok(Client {
            api: AuthedClient::new(http, Arc::new(tokens)),
            config,
        })
    }

    /// Every page of a paged GraphQL field.
    async fn all(&self, query: &str, root: &str, vars: Value) -> Result<Vec<Item>> {
        let mut out = Vec::new();
        for page in 1..10_000u64 {
            let mut v = vars.clone();
            v["page"] = json!(page);
            v["page_size"] = json!(self.config.page_size);
            let req = Request::post(format!("{}/graphql", self.config.api_base))
                .json(&json!({"query": query, "variables": v}));
            let answer: Answer = self.api.json(&req).await?;
            if let Some(e) = answer.errors.first() {
                return Err(SenteraError::Graphql(e.message.clone()).into());
            }
            let data = answer
                .data
                .and_then(|d| d.get(root).cloned())
                .ok_or_else(|| Error::protocol(KIND.slug(), "no data"))?;
            let paged: Paged = serde_json::from_value(data)
                .map_err(|e| Error::protocol(KIND.slug(), e.to_string()))?;
            let got = paged.results.len() as u64;
            out.extend(paged.results);
            if got == 0 || out.len() as u64 >= paged.total_count {
                return Ok(out);
            }
        }
        Err(Error::protocol(KIND.slug(), "too many pages"))
    }
}

impl Provider for Client {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            machine_files: false,
            imagery: true,
            webhooks: true,
            ..Capabilities::FULL
        }
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        self.api.auth.authenticate()
    }

    fn organizations(&self) -> BoxFuture<'_, Result<Vec<ProviderOrganization>>> {
        Box::pin(async move {
            let items = self.all(ORGANIZATIONS, "organizations", json!({})).await?;
            Ok(items.into_iter().map(convert::organization).collect())
        })
    }

    fn fields<'a>(&'a self, organization_id: &'a str) -> BoxFuture<'a, Result<Vec<ProviderField>>> {
        Box::pin(async move {
            let items = self
                .all(FIELDS, "fields", json!({"org": organization_id}))
                .await?;
            Ok(items
                .into_iter()
                .map(|i| convert::field(i, organization_id))
                .collect())
        })
    }

    fn machine_files<'a>(
        &'a self,
        _organization_id: &'a str,
        _since: Option<OffsetDateTime>,
        _cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FilePage>> {
        unsupported(KIND, Capability::MachineFiles)
    }

    fn download<'a>(
        &'a self,
        _file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        unsupported(KIND, Capability::MachineFiles)
    }

    fn imagery_layers<'a>(
        &'a self,
        organization_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ImageryLayer>>> {
        Box::pin(async move {
            let items = self
                .all(IMAGERY, "imagery", json!({"org": organization_id}))
                .await?;
            Ok(items
                .into_iter()
                .map(|i| convert::imagery(i, organization_id))
                .collect())
        })
    }
}
