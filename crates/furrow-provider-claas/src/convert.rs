//! Wire → model: the outbox JSON shape [A] (`{items: [{id, machineId, createdAt, fileName, size}], next}`).

use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The CLAAS API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: Some("/organizations"),
        fields: None,
        boundaries: RestBoundaries::None,
        files: Some("/organizations/{org}/outbox"),
        file: Some("/organizations/{org}/outbox/{id}"),
        paging: RestPaging::ItemsNext,
        keys: RestKeys::default(),
        since_param: "since",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
