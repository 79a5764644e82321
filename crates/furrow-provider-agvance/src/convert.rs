//! Wire → model: `{items: [{id, name, farmId, growerId, boundary}], next}` [A].

use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: None,
        fields: Some("/api/Fields"),
        boundaries: RestBoundaries::Inline("boundary"),
        files: None,
        file: None,
        paging: RestPaging::ItemsNext,
        keys: RestKeys::default(),
        since_param: "since",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
