//! The provider registry of this binary: every adapter, from `furrow-registry` (the `furrow` command uses the same).

pub(crate) use furrow_registry::registry;
