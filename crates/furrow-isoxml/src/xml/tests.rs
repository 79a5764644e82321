use super::*;

/// The attributes quick-xml reads from `tag` (the generic path), for comparison.
fn generic(tag: &str) -> Vec<(String, String)> {
    let name_len = tag
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(tag.len());
    let mut attrs = Attributes::new(tag, name_len);
    attrs.with_checks(false);
    attrs
        .map_while(Result::ok)
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.0).into_owned();
            let value = a.unescape_value().map_or_else(
                |_| String::from_utf8_lossy(&a.value).into_owned(),
                Cow::into_owned,
            );
            (key, value)
        })
        .collect()
}

fn plain(tag: &str) -> Option<Vec<(String, String)>> {
    let name_len = tag
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(tag.len());
    plain_attributes(&tag[name_len..]).map(|a| {
        a.into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
}

#[test]
fn plain_attributes_agree_with_quick_xml() {
    for tag in [
        "PNT",
        "PNT ",
        r#"PNT A="2" C="51.1234567" D="7.1234567""#,
        "PNT A='2'\tC='51.1'\r\n D=\"7\" ",
        r#"TSK A="TSK1" B="" G="1" P094_X="a'b""#,
        r#"CTR A="CTR1" B="Müller &amp; Söhne""#,
        r#"CTR A="CTR1" B="a > b < c""#,
        r#"DVC A="DVC-1" B="x=y" C="/""#,
    ] {
        let fast = plain(tag);
        if let Some(fast) = &fast {
            assert_eq!(fast, &generic(tag), "{tag}");
        }
        // The one with an entity must take the generic path.
        assert_eq!(fast.is_none(), tag.contains('&'), "{tag}");
    }
}

#[test]
fn unusual_attribute_forms_take_the_generic_path() {
    for tag in [
        r#"PNT A = "2""#,
        r#"PNT A="2"B="3""#,
        r#"PNT A=2"#,
        r#"PNT A="2"#,
        r#"PNT ="2""#,
        r#"PNT A"#,
        r#"PNT A="1" B"#,
    ] {
        assert_eq!(plain(tag), None, "{tag}");
    }
}

#[test]
fn elements_read_the_same_through_either_path() {
    let xml = "<ISO11783_TaskData VersionMajor=\"4\"><TSK A=\"TSK1\" B=\"Field &amp; more\" \
               G = \"1\"/><PFD A='PFD1' C=\"x\" D=\"1\"><PNT A=\"2\" C=\"51.1\" D=\"7.2\"/></PFD>\
               </ISO11783_TaskData>";
    let mut warnings = Warnings::default();
    let root = parse(xml, "TASKDATA.XML", &mut warnings).map(|n| n.to_element());
    let root = root.unwrap_or_default();
    assert!(warnings.as_slice().is_empty(), "{:?}", warnings.as_slice());
    let tsk = &root.children[0];
    assert_eq!(tsk.attribute("B"), Some("Field & more"));
    assert_eq!(tsk.attribute("G"), Some("1"));
    let pfd = &root.children[1];
    assert_eq!(
        pfd.attributes,
        [
            ("A".into(), "PFD1".into()),
            ("C".into(), "x".into()),
            ("D".into(), "1".into())
        ]
    );
    assert_eq!(pfd.children[0].attribute("C"), Some("51.1"));
}
