//! Trimble Agriculture adapter for furrow.
//!
//! Built to the Ag Data API v3 (providers.md section 5): Trimble Identity at `id.trimble.com` with Basic
//! client auth and **single-use** refresh tokens (each refresh returns a new one, persisted before use),
//! organizations, fields and boundaries in `{result, bookmark: {token, moreResults}}` envelopes [C]; the
//! bookmark goes back as `?bookmark=` [A]. Raw machine files are not served by the API [A], so machine
//! files are unsupported.
//!
//! Organization authorization [C]: after login the grower picks, on Trimble's
//! `ThirdPartyAuthorizationRedirect` page ([`TrimbleConfig::organization_authorization_url`]), which
//! organizations the app may see; the others are simply not listed (connected and unconnected cannot be told
//! apart [R]). When none is shared, [`furrow_provider::Provider::organizations`] answers `LimitedPermission`
//! carrying that link as its `connection_uri`.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::{ORG_AUTHORIZATION, TrimbleConfig};

use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use furrow_provider::{
    BoxFuture, ByteStream, Capabilities, FilePage, Provider, ProviderContext, ProviderKind,
    RestProvider, Result, Secrets,
};
use time::OffsetDateTime;

/// The Trimble Agriculture adapter for one credential.
#[derive(Debug, Clone)]
pub struct TrimbleProvider {
    rest: RestProvider,
    connection_uri: String,
}

impl TrimbleProvider {
    /// Builds the adapter from a stored credential (`clientId`, `clientSecret`, `refreshToken`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = TrimbleConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: TrimbleConfig) -> Result<Self> {
        let connection_uri =
            config.organization_authorization_url(&ctx.require(config.kind, "clientId")?);
        Ok(TrimbleProvider {
            rest: client::build(ctx, &config)?,
            connection_uri,
        })
    }

    async fn shared_organizations(&self) -> Result<Vec<ProviderOrganization>> {
        let orgs = self.rest.organizations().await?;
        if orgs.is_empty() {
            return Err(error::AdapterError::NoSharedOrganization {
                connection_uri: self.connection_uri.clone(),
            }
            .into());
        }
        Ok(orgs)
    }
}

impl Provider for TrimbleProvider {
    fn kind(&self) -> ProviderKind {
        self.rest.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.rest.capabilities()
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        self.rest.authenticate()
    }

    fn organizations(&self) -> BoxFuture<'_, Result<Vec<ProviderOrganization>>> {
        Box::pin(self.shared_organizations())
    }

    fn fields<'a>(&'a self, organization_id: &'a str) -> BoxFuture<'a, Result<Vec<ProviderField>>> {
        self.rest.fields(organization_id)
    }

    fn machine_files<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FilePage>> {
        self.rest.machine_files(organization_id, since, cursor)
    }

    fn download<'a>(
        &'a self,
        file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        self.rest.download(file)
    }
}
