//! GraphQL documents, wire types and their conversion.

use furrow_model::{ProviderField, ProviderOrganization};
use furrow_provider::ImageryLayer;
use serde::Deserialize;
use serde_json::Value;

pub(crate) const ORGANIZATIONS: &str = "query($page: Int!, $page_size: Int!) { organizations(pagination: {page: $page, page_size: $page_size}) { page page_size present total_count results { sentera_id name } } }";
pub(crate) const FIELDS: &str = "query($org: ID!, $page: Int!, $page_size: Int!) { fields(organization_sentera_id: $org, pagination: {page: $page, page_size: $page_size}) { page page_size present total_count results { sentera_id name boundary } } }";

/// Imagery and analytics layers (stand count, NDVI, RGB, ... [R]) of an organization. [A]: the query name
/// `imagery` and its keys are not public; the pagination shape is Sentera's [C].
pub(crate) const IMAGERY: &str = "query($org: ID!, $page: Int!, $page_size: Int!) { imagery(organization_sentera_id: $org, pagination: {page: $page, page_size: $page_size}) { page page_size present total_count results { sentera_id name type field_sentera_id captured_at } } }";

#[derive(Debug, Deserialize)]
pub(crate) struct GqlError {
    pub(crate) message: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Answer {
    pub(crate) data: Option<Value>,
    #[serde(default)]
    pub(crate) errors: Vec<GqlError>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Paged {
    pub(crate) total_count: u64,
    #[serde(default)]
    pub(crate) results: Vec<Item>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Item {
    pub(crate) sentera_id: String,
    #[serde(default)]
    pub(crate) name: String,
    pub(crate) boundary: Option<Value>,
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) field_sentera_id: Option<String>,
    #[serde(default)]
    pub(crate) captured_at: Option<String>,
}

pub(crate) fn organization(i: Item) -> ProviderOrganization {
    ProviderOrganization {
        id: i.sentera_id,
        name: i.name,
        connected: true,
        connection_uri: None,
    }
}

pub(crate) fn field(i: Item, org: &str) -> ProviderField {
    ProviderField {
        boundary: i
            .boundary
            .as_ref()
            .and_then(furrow_provider::geojson_multipolygon),
        id: i.sentera_id,
        name: i.name,
        organization_id: org.to_owned(),
        farm_id: None,
        grower_id: None,
    }
}

pub(crate) fn imagery(i: Item, org: &str) -> ImageryLayer {
    ImageryLayer {
        id: i.sentera_id,
        name: i.name,
        organization_id: org.to_owned(),
        field_id: i.field_sentera_id,
        kind: i.kind.unwrap_or_default(),
        captured_time: i.captured_at,
    }
}
