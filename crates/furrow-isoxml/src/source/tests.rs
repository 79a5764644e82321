use super::*;

#[test]
fn numbered_names_split() {
    assert_eq!(split_numbered("TLG00001"), Some(("TLG", 1)));
    assert_eq!(split_numbered("TLG0001"), Some(("TLG", 1)));
    assert_eq!(split_numbered("TLG"), None);
    assert_eq!(split_numbered("TLG00A1"), None);
}

#[test]
fn junk_paths() {
    assert!(is_junk("__MACOSX/TASKDATA/._TASKDATA.XML"));
    assert!(is_junk("a/_MACOSX/TASKDATA.XML"));
    assert!(is_junk("TASKDATA/._TASKDATA.XML"));
    assert!(!is_junk("Sub Folder/TASKDATA/TASKDATA.XML"));
    assert!(is_taskdata("x/TaskData.xml"));
    assert!(!is_taskdata("x/._TaskData.xml"));
}

#[test]
fn lookup_ignores_case_and_digit_count() {
    let bytes: Arc<[u8]> = Arc::from(&b"<ISO11783_TaskData/>"[..]);
    let mut set = xml_bytes(bytes);
    let mk = |p: &str| FileRef {
        path: p.to_owned(),
        size: 0,
        loc: Loc::Path(PathBuf::from(p)),
    };
    set = DataSetFiles::new(
        set.label,
        set.taskdata,
        vec![mk("d/tlg0001.bin"), mk("d/TLG00002.xml")],
    );
    assert_eq!(
        set.find("TLG00002.XML").map(|f| f.path.as_str()),
        Some("d/TLG00002.xml")
    );
    assert_eq!(
        set.find_numbered("TLG00001", "BIN").map(|f| f.name()),
        Some("tlg0001.bin")
    );
    assert!(set.find_numbered("TLG00003", "BIN").is_none());
}

#[test]
fn zip_detection_finds_archives_behind_junk() {
    assert!(looks_like_zip(b"PK\x03\x04rest"));
    let mut junk = vec![1u8; 1000];
    junk.extend_from_slice(b"PK\x05\x06");
    junk.extend_from_slice(&[0; 18]);
    assert!(looks_like_zip(&junk));
    assert!(!looks_like_zip(
        b"<?xml version=\"1.0\"?><ISO11783_TaskData/>"
    ));
}
