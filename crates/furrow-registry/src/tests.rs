use furrow_provider::ProviderKind;

#[test]
fn every_catalogue_provider_has_an_adapter() {
    let registry = super::registry();
    let missing: Vec<_> = ProviderKind::ALL
        .into_iter()
        .filter(|k| !registry.supports(*k))
        .map(|k| k.slug())
        .collect();
    assert_eq!(missing, Vec::<&str>::new());
    assert_eq!(ProviderKind::ALL.len(), 15);
}
