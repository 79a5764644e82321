use super::*;
use crate::xml;

fn load(xml_text: &str) -> (TaskData, Vec<Warning>) {
    let mut cx = Ctx::default();
    let root = xml::parse(xml_text, "T.XML", &mut cx.warnings).unwrap();
    let mut td = TaskData::default();
    root_attributes(&mut cx, &root, &mut td);
    for c in &root.children {
        top_level(&mut cx, c, &mut td);
    }
    cx.check_references();
    (td, cx.warnings.into_vec())
}

#[test]
fn proprietary_names() {
    assert!(is_proprietary_name("P231_cur_task"));
    assert!(is_proprietary_name("P1234_Area"));
    assert!(!is_proprietary_name("P_x"));
    assert!(!is_proprietary_name("PX1_"));
    assert!(!is_proprietary_name("Q1_x"));
}

#[test]
fn unknown_and_proprietary_content_is_kept() {
    let (td, w) = load(
        r#"<ISO11783_TaskData VersionMajor="4" VersionMinor="3" P094_x="1" Foo="2">
             <TSK A="TSK1" G="1" P1_y="z"><P094_Thing A="1"/><ZZZ/></TSK><QQQ/></ISO11783_TaskData>"#,
    );
    assert_eq!(
        td.extra,
        vec![("P094_x".into(), "1".into()), ("Foo".into(), "2".into())]
    );
    assert_eq!(td.tasks[0].extra, vec![("P1_y".into(), "z".into())]);
    assert_eq!(td.tasks[0].other_elements.len(), 2);
    assert_eq!(td.other_elements[0].name, "QQQ");
    let kinds: Vec<_> = w.iter().map(|w| (w.kind, w.attribute.clone())).collect();
    assert_eq!(
        kinds,
        [
            (WarningKind::UnknownAttribute, Some("Foo".into())),
            (WarningKind::UnknownElement, None),
            (WarningKind::UnknownElement, None),
        ]
    );
}

#[test]
fn references_and_duplicates() {
    let (_, w) = load(
        r#"<ISO11783_TaskData VersionMajor="4"><CTR A="CTR1" B="x"/><CTR A="CTR1" B="y"/>
             <FRM A="FRM1" B="f" I="CTR9"/><PFD A="PFD1" C="p" D="1" E="FRM1"/></ISO11783_TaskData>"#,
    );
    assert_eq!(
        w.iter()
            .filter(|w| w.kind == WarningKind::DuplicateId)
            .count(),
        1
    );
    let dangling: Vec<_> = w
        .iter()
        .filter(|w| w.kind == WarningKind::DanglingReference)
        .collect();
    assert_eq!(dangling.len(), 2, "{dangling:?}");
    assert!(dangling.iter().any(|d| d.message.contains("CTR9")));
    assert!(dangling.iter().any(|d| d.message.contains("it is a FRM")));
}

#[test]
fn device_tree_and_presentation() {
    let (td, w) = load(
        r#"<ISO11783_TaskData VersionMajor="4"><DVC A="DVC1" D="A000000000000000">
             <DET A="DET1" B="1" C="1" E="0" F="0"><DOR A="10"/></DET>
             <DET A="DET2" B="2" C="4" E="1" F="1"><DOR A="11"/></DET>
             <DPD A="10" B="0074" C="1" D="16" F="20"/><DPT A="11" B="0043" C="3000"/>
             <DVP A="20" B="0" C="0.0001" D="2" E="ha"/></DVC></ISO11783_TaskData>"#,
    );
    assert!(w.is_empty(), "{w:?}");
    let d = &td.devices[0];
    let root = d.root_elements().next().unwrap();
    assert_eq!(root.id, "DET1");
    assert_eq!(
        d.children_of(root)
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["DET2"]
    );
    let p = td.presentation(0x0074, "DET1").unwrap();
    assert_eq!(p.unit.as_deref(), Some("ha"));
    assert_eq!(
        d.properties_of(d.element("DET2").unwrap())
            .next()
            .unwrap()
            .value,
        3000
    );
}

#[test]
fn empty_optional_attribute_is_absent_and_bad_numbers_warn() {
    let (td, w) = load(
        r#"<ISO11783_TaskData VersionMajor="4" TaskControllerVersion=""><PFD A="PFD1" C="x" D="abc"/></ISO11783_TaskData>"#,
    );
    assert_eq!(td.task_controller_version, None);
    assert_eq!(td.partfields[0].area, None);
    assert_eq!(w[0].kind, WarningKind::InvalidValue);
    assert_eq!(w[0].attribute.as_deref(), Some("D"));
}

#[test]
fn attribute_values_are_unescaped_and_more_than_64_attributes_tracked() {
    let padding: String = (0..70).map(|i| format!(r#" P{i}_pad="{i}""#)).collect();
    let (td, w) = load(&format!(
        r#"<ISO11783_TaskData VersionMajor="4"><CTR{padding} A="CTR1" B="Smith &amp; Sons" C="a & b" Zed="1"/></ISO11783_TaskData>"#
    ));
    let c = &td.customers[0];
    assert_eq!(c.id, "CTR1", "attribute 71 of the element is read");
    assert_eq!(c.last_name, "Smith & Sons");
    assert_eq!(
        c.first_name.as_deref(),
        Some("a & b"),
        "a stray `&` is kept"
    );
    assert_eq!(c.extra.len(), 71, "70 proprietary + the unknown one");
    assert_eq!(c.extra[70], ("Zed".into(), "1".into()));
    let unknown: Vec<_> = w
        .iter()
        .filter(|w| w.kind == WarningKind::UnknownAttribute)
        .map(|w| w.attribute.clone())
        .collect();
    assert_eq!(unknown, vec![Some("Zed".to_owned())]);
}

#[test]
fn non_utf8_text_is_repaired_not_rejected() {
    let mut cx = Ctx::default();
    let bytes = b"\xEF\xBB\xBF<CTR A=\"CTR1\" B=\"M\xFCller\"/>";
    let text = xml::text(bytes);
    let root = xml::parse(&text, "T.XML", &mut cx.warnings).unwrap();
    assert_eq!(root.name(), "CTR");
    assert_eq!(root.attribute("B"), Some("M\u{FFFD}ller"));
    assert_eq!(root.to_element().attributes[0], ("A".into(), "CTR1".into()));
}
