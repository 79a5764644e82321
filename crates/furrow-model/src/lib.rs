//! furrow's domain types, shared by the store, the API and the sync engine.
//!
//! No IO here: these are plain data types with their JSON shapes (camelCase, as Leaf's API).
//!
//! ```
//! use furrow_model::{UserInput, Page};
//! let input: UserInput = serde_json::from_str(r#"{"name":"Ann","email":"ann@example.com"}"#).unwrap();
//! assert_eq!(input.name.as_deref(), Some("Ann"));
//! let page = Page::new(0, 20).unwrap();
//! assert_eq!(page.offset(), 0);
//! ```
#![warn(missing_docs)]

mod config;
mod events;
pub mod leaf_json;
mod page;
mod provider_data;
mod time_fmt;
mod user;

pub use config::{
    ConfigError, UNSUPPORTED_KEYS, config_defaults, default_cleanup_rules, effective_config,
    unsupported_key, validate_config,
};
pub use events::{EVENT_KEYS, Event, is_event_key, registration_body};
pub use page::{Page, PageError, SortOrder};
pub use provider_data::{
    MachineFileDescriptor, MultiPolygon, Polygon, Position, ProviderField, ProviderOrganization,
    Ring,
};
pub use time_fmt::{format_timestamp, now_micros, timestamp_from_micros};
pub use user::{ApiOwner, CredentialEvent, LeafUser, NewCredentialEvent, UserFilter, UserInput};
