use super::*;

#[test]
fn json_shape_is_exact() {
    let td = TaskData::from_bytes(
        &br#"<ISO11783_TaskData VersionMajor="4" VersionMinor="2" ManagementSoftwareManufacturer="FS" ManagementSoftwareVersion="1.0">
        <TSK A="TSK1" G="1"/></ISO11783_TaskData>"#[..],
    )
    .unwrap();
    let s = Summary::of(&td);
    let text = serde_json::to_string(&s).unwrap();
    assert!(
        text.starts_with(
            r#"{"version":"4.2","managementSoftware":"FS 1.0","taskController":null,"counts":{"TSK":1,"PFD":0,"PLN":0,"TLG":0,"GRD":0,"DVC":0,"DET":0,"DPD":0,"TZN":0},"timeLogs":[],"warnings":["#
        ),
        "{text}"
    );
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 6);
    assert_eq!(v["version"], "4.2");
    assert_eq!(v["managementSoftware"], "FS 1.0");
    assert_eq!(v["taskController"], serde_json::Value::Null);
    assert_eq!(v["counts"]["TSK"], 1);
    assert!(s.to_string().contains("TSK 1"));
}

#[test]
fn time_log_entry_shape() {
    let t = TimeLogSummary {
        task: "TSK1".into(),
        name: "TLG00001".into(),
        status: TimeLogStatus::Ok,
        problem: None,
        records: Some(2),
        first_time: Some("2020-01-02T10:11:12.345".into()),
        last_time: None,
        bbox: Some([1.0, 2.0, 3.0, 4.0]),
        dlvs: vec![DlvSummary {
            index: 0,
            ddi: 67,
            device_element: Some("DET-1".into()),
            count: 2,
            sum: -5,
        }],
    };
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"task": "TSK1", "name": "TLG00001", "status": "ok", "problem": null, "records": 2, "firstTime": "2020-01-02T10:11:12.345",
            "lastTime": null, "bbox": [1.0, 2.0, 3.0, 4.0],
            "dlvs": [{"index": 0, "ddi": 67, "deviceElement": "DET-1", "count": 2, "sum": -5}]})
    );
}
