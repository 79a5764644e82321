//! Host and limits [C] (providers.md 7.1).

use std::time::Duration;

use furrow_provider::{ProviderContext, RateLimit};

/// Slingshot's documented request budget: 30 calls per 60 s.
pub(crate) const RATE_LIMIT: RateLimit = RateLimit {
    requests: 30,
    per: Duration::from_secs(60),
};

/// Where Slingshot is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlingshotConfig {
    /// API base.
    pub api_base: String,
    /// Base64-decode the shared secret before using it as the HMAC key (two independent clients do [R]).
    pub decode_secret: bool,
    /// Items per `JobData` page (≤ 1000 recommended).
    pub page_size: u32,
    /// How many `MORE_TIME_NEEDED` answers to wait through before giving up.
    pub max_polls: u32,
    /// Ask for JSON (`Accept: application/json`) instead of the API's default XML [C]. Either is parsed.
    pub json: bool,
    /// The form each job is downloaded in: `GET /JobData/{id}?format=…` [C]. Slingshot offers `shp` (the job
    /// as a shapefile zip, which furrow converts), `bin` (the display's original zip: Raven's native job data,
    /// which furrow keeps as unsupported) and `fmis` (Raven's XML + TAB export, which furrow does not read).
    /// The default is `shp`.
    pub download_format: String,
}

impl SlingshotConfig {
    /// The production host, or the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        SlingshotConfig {
            api_base: ctx
                .base_url
                .clone()
                .unwrap_or_else(|| "https://api.ravenslingshot.com".to_owned()),
            decode_secret: true,
            page_size: 100,
            max_polls: 20,
            json: false,
            download_format: "shp".to_owned(),
        }
    }
}
