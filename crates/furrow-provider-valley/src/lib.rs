//! Valley (Valmont) adapter for furrow.
//!
//! Valley 365 / BaseStation is irrigation data without field boundaries [R]: the capabilities say so,
//! [`Provider::irrigation_equipment`] and [`Provider::irrigation_applications`] read the equipment and its
//! as-applied irrigation (paths and keys [A]), and fields, boundaries and machine files answer
//! `Unsupported` without a request. Everything about the login is
//! assumed [A] (providers.md section 13): `POST /api/login` with `{apid, username, password}` where the
//! password is `base64(AES-128-CBC-PKCS7(key, iv, password))` (key and IV are the credential's base64
//! `key` and `initializationVector`) → `{token, expiresIn}`.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::ValleyConfig;

use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use furrow_provider::{
    BoxFuture, ByteStream, Capabilities, Capability, Error, FilePage, IrrigationApplication,
    IrrigationEquipment, Provider, ProviderContext, ProviderKind, RestProvider, Result, Secrets,
    rfc3339, unsupported,
};
use time::OffsetDateTime;

/// The Valley adapter for one credential.
#[derive(Debug, Clone)]
pub struct ValleyProvider(RestProvider);

impl ValleyProvider {
    /// Builds the adapter from a stored credential.
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = ValleyConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: ValleyConfig) -> Result<Self> {
        Ok(ValleyProvider(client::build(ctx, &config)?))
    }

    async fn equipment(&self, org: &str) -> Result<Vec<IrrigationEquipment>> {
        let items = self.0.api().list(convert::EQUIPMENT_PATH, org, &[]).await?;
        items
            .iter()
            .map(|v| {
                convert::equipment(v, org)
                    .ok_or_else(|| Error::protocol(self.name(), "irrigation equipment without id"))
            })
            .collect()
    }

    async fn applications(
        &self,
        org: &str,
        equipment_id: &str,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<IrrigationApplication>> {
        let path = convert::APPLICATIONS_PATH.replace("{id}", equipment_id);
        let since = since.map(|t| rfc3339(t.unix_timestamp()));
        let query: Vec<(&str, &str)> = since.iter().map(|s| ("since", s.as_str())).collect();
        let items = self.0.api().list(&path, org, &query).await?;
        items
            .iter()
            .map(|v| {
                convert::application(v, equipment_id)
                    .ok_or_else(|| Error::protocol(self.name(), "irrigation record without id"))
            })
            .collect()
    }
}

impl Provider for ValleyProvider {
    fn kind(&self) -> ProviderKind {
        self.0.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        self.0.authenticate()
    }

    fn organizations(&self) -> BoxFuture<'_, Result<Vec<ProviderOrganization>>> {
        self.0.organizations()
    }

    fn fields<'a>(&'a self, organization_id: &'a str) -> BoxFuture<'a, Result<Vec<ProviderField>>> {
        self.0.fields(organization_id)
    }

    fn machine_files<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FilePage>> {
        self.0.machine_files(organization_id, since, cursor)
    }

    fn download<'a>(
        &'a self,
        file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        self.0.download(file)
    }

    fn irrigation_equipment<'a>(
        &'a self,
        organization_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<IrrigationEquipment>>> {
        if !self.capabilities().irrigation {
            return unsupported(self.kind(), Capability::Irrigation);
        }
        Box::pin(self.equipment(organization_id))
    }

    fn irrigation_applications<'a>(
        &'a self,
        organization_id: &'a str,
        equipment_id: &'a str,
        since: Option<OffsetDateTime>,
    ) -> BoxFuture<'a, Result<Vec<IrrigationApplication>>> {
        if !self.capabilities().irrigation {
            return unsupported(self.kind(), Capability::Irrigation);
        }
        Box::pin(self.applications(organization_id, equipment_id, since))
    }
}
