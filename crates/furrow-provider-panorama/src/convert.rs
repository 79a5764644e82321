//! Wire → model: `{items, next}` lists [A].

use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: None,
        fields: Some("/v1/fields"),
        boundaries: RestBoundaries::Inline("boundary"),
        files: Some("/v1/files"),
        file: Some("/v1/files/{id}/download"),
        paging: RestPaging::ItemsNext,
        keys: RestKeys::default(),
        since_param: "since",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
