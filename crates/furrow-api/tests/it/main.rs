//! furrow-api end-to-end tests over a real socket. Every scenario runs on SQLite, and on PostgreSQL when
//! `FURROW_TEST_DATABASE_URL` is set at build time (`cfg(furrow_pg)`), each in a fresh database.

mod harness;

mod alerts;
mod auth;
mod configs;
mod contract;
mod credentials;
mod errors;
mod fields;
mod files;
mod images;
mod metrics;
mod onboarding;
mod operations;
mod organizations;
mod provider_events;
mod settings;
mod users;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::harness::Harness::start(furrow_store::Backend::Sqlite).await;
                    super::$name(&h).await;
                    h.stop().await;
                }
            )*
        }
        #[cfg(furrow_pg)]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::harness::Harness::start(furrow_store::Backend::Postgres).await;
                    super::$name(&h).await;
                    h.stop().await;
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;
