use crate::convert;
use crate::error::SenteraError;

#[test]
fn graphql_errors_map_to_kinds() {
    let e: furrow_provider::Error = SenteraError::Graphql("Organization not found".into()).into();
    assert_eq!(e.kind(), furrow_provider::ErrorKind::NotFound);
    let e: furrow_provider::Error = SenteraError::Graphql("syntax".into()).into();
    assert_eq!(e.kind(), furrow_provider::ErrorKind::Protocol);
}

#[test]
fn fields_carry_geojson_boundaries() {
    let i: convert::Item = serde_json::from_str(
        r#"{"sentera_id":"f1","name":"A","boundary":{"type":"Polygon","coordinates":[[[1,2],[1,3],[2,3],[1,2]]]}}"#,
    )
    .unwrap();
    let f = convert::field(i, "o1");
    assert_eq!(f.boundary.unwrap().coordinates[0][0][1], [1.0, 3.0]);
}
