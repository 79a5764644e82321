//! Wire → model: `{items, next}` lists (providers.md 14.2) with Portuguese keys (`nome`, `geometria`, `arquivo`, `inicio`, `tamanho`) [A].

use furrow_provider::{DownloadMode, RestBoundaries, RestKeys, RestPaging, RestSpec};

/// The API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: None,
        fields: Some("/talhoes"),
        boundaries: RestBoundaries::Inline("geometria"),
        files: Some("/operacoes"),
        file: Some("/operacoes/{id}/arquivo"),
        paging: RestPaging::ItemsNext,
        keys: RestKeys {
            id: "id",
            name: "nome",
            file_name: "arquivo",
            created: "inicio",
            size: "tamanho",
        },
        since_param: "desde",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}
