//! Wire → model: `{result, bookmark}` envelopes [C]; boundaries listed per organization with their `fieldId`.

use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: Some("/config/organizations"),
        fields: Some("/resources/{org}/fields/"),
        boundaries: RestBoundaries::List("/resources/{org}/boundaries"),
        files: None,
        file: None,
        paging: RestPaging::Bookmark,
        keys: RestKeys::default(),
        since_param: "since",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
