use super::*;

#[test]
fn bare_xml_bytes() {
    let td = TaskData::from_bytes(
        &br#"<?xml version="1.0"?><ISO11783_TaskData VersionMajor="3" VersionMinor="3" ManagementSoftwareManufacturer="M">
        <TSK A="TSK1" G="4"><TLG A="TLG00001"/><GRD A="1" B="2" C="0.1" D="0.1" E="2" F="2" G="GRD00001" I="1"/></TSK>
        <XFR A="CTR00001" B="1"/></ISO11783_TaskData>"#[..],
    )
    .unwrap();
    assert_eq!(td.version(), "3.3");
    assert_eq!(td.time_logs.len(), 1);
    assert!(
        td.time_logs[0].records().is_err(),
        "header and binary are missing"
    );
    assert_eq!(td.grid_errors.len(), 1);
    let kinds: Vec<_> = td.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == WarningKind::MissingFile)
            .count(),
        4,
        "{kinds:?}"
    );
}

#[test]
fn no_root_is_an_error() {
    assert!(matches!(
        TaskData::from_bytes(&b"not xml"[..]),
        Err(Error::Xml { .. })
    ));
    assert!(matches!(
        TaskData::from_bytes(&b"<Other/>"[..]),
        Err(Error::Xml { .. })
    ));
    assert!(matches!(
        TaskData::from_bytes(Vec::new()),
        Err(Error::Xml { .. })
    ));
}

#[test]
fn cut_off_taskdata_keeps_what_was_read() {
    let td = TaskData::from_bytes(&br#"<ISO11783_TaskData VersionMajor="4"><CTR A="CTR1" B="x"/><TSK A="TSK1" G="1"><TZN A="1"#[..]).unwrap();
    assert_eq!(td.customers.len(), 1);
    assert_eq!(td.tasks.len(), 1);
    assert!(
        td.warnings
            .iter()
            .any(|w| w.kind == WarningKind::MalformedXml)
    );
}
