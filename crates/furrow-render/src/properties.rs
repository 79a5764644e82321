//! Which properties get images (leaf-images.md §5.2).

/// The properties Leaf can image, per operation type: the keys of `operationsImageAttributeCreation`.
///
/// Every one is numeric. Whether an image is made also depends on the configuration (§5.1) and on the
/// property having at least one finite value (else rendering answers [`crate::Error::NoValues`]).
pub const IMAGEABLE_PROPERTIES: [(&str, &[&str]); 4] = [
    (
        "harvested",
        &[
            "area",
            "distance",
            "elevation",
            "equipmentWidth",
            "harvestMoisture",
            "wetMass",
            "wetMassPerArea",
            "wetVolume",
            "wetVolumePerArea",
            "dryMass",
            "dryMassPerArea",
            "dryVolume",
            "dryVolumePerArea",
            "speed",
            "heading",
            "cropFlow",
            "proteinPercentage",
            "fuelRate",
            "fuelUsed",
        ],
    ),
    (
        "planted",
        &[
            "heading",
            "distance",
            "elevation",
            "seedRate",
            "area",
            "equipmentWidth",
            "speed",
            "seedRateTarget",
            "seedDepth",
            "fuelRate",
            "fuelUsed",
            "downForce",
            "singulation",
        ],
    ),
    (
        "applied",
        &[
            "heading",
            "distance",
            "elevation",
            "appliedRate",
            "area",
            "equipmentWidth",
            "speed",
            "appliedRateTarget",
            "fuelRate",
            "fuelUsed",
        ],
    ),
    (
        "tillage",
        &[
            "area",
            "heading",
            "distance",
            "elevation",
            "equipmentWidth",
            "tillageDepthTarget",
            "speed",
            "tillageDepthActual",
            "fuelRate",
            "fuelUsed",
        ],
    ),
];

/// The imageable properties of an operation type (`harvested`, `planted`, `applied`, `tillage`), in
/// Leaf's order; empty for any other type (`other` has no image keys).
pub fn imageable_properties(operation_type: &str) -> &'static [&'static str] {
    IMAGEABLE_PROPERTIES
        .iter()
        .find(|(t, _)| *t == operation_type)
        .map_or(&[], |(_, p)| p)
}

/// Whether `property` of an operation of type `operation_type` can have an image.
pub fn is_imageable(operation_type: &str, property: &str) -> bool {
    imageable_properties(operation_type).contains(&property)
}
