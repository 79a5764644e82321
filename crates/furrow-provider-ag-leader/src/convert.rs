//! Wire → model: `{items: [{id, name, size, createdDate, type}], totalCount}` [A].

use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: None,
        fields: None,
        boundaries: RestBoundaries::None,
        files: Some("/api/v1/files"),
        file: Some("/api/v1/files/{id}/download"),
        paging: RestPaging::PageNumber,
        keys: RestKeys {
            file_name: "name",
            created: "createdDate",
            ..RestKeys::default()
        },
        since_param: "modifiedSince",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
