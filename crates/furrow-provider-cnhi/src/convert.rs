//! Wire → model: companies, fields with per-field boundaries and files [R/A].

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The API as furrow reads it, per generation.
pub(crate) fn spec_for(kind: ProviderKind) -> RestSpec {
    RestSpec {
        organizations: Some("/v1/companies"),
        fields: Some("/v1/companies/{org}/fields"),
        boundaries: RestBoundaries::PerField("/v1/companies/{org}/fields/{field}/boundaries"),
        files: Some("/v1/companies/{org}/files"),
        file: Some("/v1/companies/{org}/files/{id}/content"),
        paging: if kind == ProviderKind::CnhiFieldOps {
            RestPaging::PageNumber
        } else {
            RestPaging::JsonApi
        },
        keys: RestKeys::default(),
        since_param: "modifiedSince",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
