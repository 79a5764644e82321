//! Local simulators of every provider API furrow has an adapter for, for tests, the demo and integrators.
//!
//! Each [`Simulator`] is an axum server on `127.0.0.1:0` serving one provider's real paths, auth and paging
//! (providers.md section 14; assumed behaviour follows the [A] defaults there), seeded with organizations,
//! fields with boundaries and the machine files that provider really delivers (`docs/PROVIDERS.md`): ISOXML
//! and John Deere exports from the repository's samples, embedded, and synthetic files generated in the
//! providers' own layouts (Ag Leader SMS and Raven Slingshot shapefile exports, Precision Planting 20|20 and
//! other proprietary display files), with fault-injection knobs ([`Faults`]) for every case of the
//! conformance suite.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use furrow_credentials::Provider;
//! use furrow_provider_sim::Simulator;
//!
//! let sim = Simulator::start(Provider::Claas).await?;
//! let credential = sim.credential(); // clientKey, clientSecret, refreshToken, clientEnvironment
//! sim.faults().fail_next(2, 503);     // the next two requests answer 503
//! println!("{} {:?}", sim.base_url(), credential.keys().collect::<Vec<_>>());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]
// Handlers return early with the error `Response` they will send; boxing it only adds noise.
#![allow(clippy::result_large_err)]

mod common;
mod providers;
mod seed;
mod server;
mod state;
mod synthetic;

#[cfg(test)]
mod tests;

pub use crate::providers::john_deere::{
    FIELD_OPERATIONS as JOHN_DEERE_FIELD_OPERATIONS, shapefile_export as john_deere_shapefile,
};
pub use crate::providers::slingshot::signature as slingshot_signature;
pub use crate::providers::{Profile, SINGLE_ORG, profile};
pub use crate::seed::{
    Seed, SeedEquipment, SeedField, SeedFile, SeedImagery, SeedIrrigation, SeedOrganization,
    corpus_dir, generated_taskdata, hex, samples_dir, shared_dir, zip_of,
};
pub use crate::server::{Probe, Simulator, SimulatorSet, serve_all, start_all};
pub use crate::state::{AppSecrets, Faults, Rejection, Rotation};
