//! Wire → model: nothing beyond the login is read yet; pivots (`/api/pivots`) come with irrigation support.

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
