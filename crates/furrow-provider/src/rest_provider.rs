//! A whole [`Provider`] from a [`RestApi`] and a [`RequestAuth`]: what most adapters are.

use std::sync::Arc;

use furrow_model::{MachineFileDescriptor, ProviderField, ProviderOrganization};
use time::OffsetDateTime;

use crate::ProviderKind;
use crate::auth::RequestAuth;
use crate::error::Result;
use crate::provider::{
    BoxFuture, ByteStream, Capabilities, Capability, FilePage, Provider, Secrets, unsupported,
};
use crate::rest::RestApi;
use crate::transport::Request;

/// A [`Provider`] over a [`RestApi`]; unsupported capabilities answer [`crate::Error::Unsupported`] without
/// a request.
#[derive(Debug, Clone)]
pub struct RestProvider {
    kind: ProviderKind,
    capabilities: Capabilities,
    api: RestApi,
}

impl RestProvider {
    /// A provider of `kind` offering `capabilities` through `api`.
    pub fn new(kind: ProviderKind, capabilities: Capabilities, api: RestApi) -> Self {
        RestProvider {
            kind,
            capabilities,
            api,
        }
    }

    /// The API.
    pub fn api(&self) -> &RestApi {
        &self.api
    }

    fn auth(&self) -> &Arc<dyn RequestAuth> {
        &self.api.client.auth
    }
}

impl Provider for RestProvider {
    fn kind(&self) -> ProviderKind {
        self.kind
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        self.auth().authenticate()
    }

    fn organizations(&self) -> BoxFuture<'_, Result<Vec<ProviderOrganization>>> {
        Box::pin(self.api.organizations(self.kind.display_name()))
    }

    fn fields<'a>(&'a self, organization_id: &'a str) -> BoxFuture<'a, Result<Vec<ProviderField>>> {
        if !self.capabilities.fields {
            return unsupported(self.kind, Capability::Fields);
        }
        Box::pin(self.api.fields(organization_id))
    }

    fn machine_files<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FilePage>> {
        if !self.capabilities.machine_files {
            return unsupported(self.kind, Capability::MachineFiles);
        }
        Box::pin(self.api.machine_files(organization_id, since, cursor))
    }

    fn download<'a>(
        &'a self,
        file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        if !self.capabilities.machine_files {
            return unsupported(self.kind, Capability::MachineFiles);
        }
        Box::pin(std::future::ready(self.api.download(file)))
    }
}

/// Adds fixed headers (an app key: CNH `Ocp-Apim-Subscription-Key`, AgVance `ApiKey`) to every request of
/// another [`RequestAuth`].
#[derive(Debug)]
pub struct WithHeaders {
    inner: Arc<dyn RequestAuth>,
    headers: Vec<(String, String)>,
}

impl WithHeaders {
    /// `inner` plus `headers`.
    pub fn new(inner: Arc<dyn RequestAuth>, headers: Vec<(String, String)>) -> Self {
        WithHeaders { inner, headers }
    }
}

impl RequestAuth for WithHeaders {
    fn apply<'a>(&'a self, req: &'a mut Request) -> BoxFuture<'a, Result<Option<String>>> {
        for (n, v) in &self.headers {
            req.set_header(n.clone(), v.clone());
        }
        self.inner.apply(req)
    }

    fn rejected<'a>(&'a self, used: Option<&'a str>) -> BoxFuture<'a, Result<bool>> {
        self.inner.rejected(used)
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        self.inner.authenticate()
    }
}

/// Implements [`Provider`] for a newtype over a type that implements it, by delegation.
#[macro_export]
macro_rules! delegate_provider {
    ($outer:ty) => {
        impl $crate::Provider for $outer {
            fn kind(&self) -> $crate::ProviderKind {
                self.0.kind()
            }
            fn capabilities(&self) -> $crate::Capabilities {
                self.0.capabilities()
            }
            fn authenticate(&self) -> $crate::BoxFuture<'_, $crate::Result<$crate::Secrets>> {
                self.0.authenticate()
            }
            fn organizations(
                &self,
            ) -> $crate::BoxFuture<'_, $crate::Result<Vec<furrow_model::ProviderOrganization>>>
            {
                self.0.organizations()
            }
            fn fields<'a>(
                &'a self,
                organization_id: &'a str,
            ) -> $crate::BoxFuture<'a, $crate::Result<Vec<furrow_model::ProviderField>>> {
                self.0.fields(organization_id)
            }
            fn machine_files<'a>(
                &'a self,
                organization_id: &'a str,
                since: Option<time::OffsetDateTime>,
                cursor: Option<&'a str>,
            ) -> $crate::BoxFuture<'a, $crate::Result<$crate::FilePage>> {
                self.0.machine_files(organization_id, since, cursor)
            }
            fn download<'a>(
                &'a self,
                file: &'a furrow_model::MachineFileDescriptor,
            ) -> $crate::BoxFuture<'a, $crate::Result<$crate::ByteStream>> {
                self.0.download(file)
            }
            fn irrigation_equipment<'a>(
                &'a self,
                organization_id: &'a str,
            ) -> $crate::BoxFuture<'a, $crate::Result<Vec<$crate::IrrigationEquipment>>> {
                self.0.irrigation_equipment(organization_id)
            }
            fn irrigation_applications<'a>(
                &'a self,
                organization_id: &'a str,
                equipment_id: &'a str,
                since: Option<time::OffsetDateTime>,
            ) -> $crate::BoxFuture<'a, $crate::Result<Vec<$crate::IrrigationApplication>>> {
                self.0
                    .irrigation_applications(organization_id, equipment_id, since)
            }
            fn imagery_layers<'a>(
                &'a self,
                organization_id: &'a str,
            ) -> $crate::BoxFuture<'a, $crate::Result<Vec<$crate::ImageryLayer>>> {
                self.0.imagery_layers(organization_id)
            }
        }
    };
}
