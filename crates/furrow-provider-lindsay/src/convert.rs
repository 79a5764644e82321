//! Wire → model: nothing beyond auth is read yet; irrigation endpoints (`/v2/pivots`) come later.

use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: None,
        fields: None,
        boundaries: RestBoundaries::None,
        files: None,
        file: None,
        paging: RestPaging::ItemsNext,
        keys: RestKeys::default(),
        since_param: "since",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
