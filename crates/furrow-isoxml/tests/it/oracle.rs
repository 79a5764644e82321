//! Checks decoded records against isoxml-py's `parsed.json` (`samples/isoxml/isoxml-py/logs/`), a decode of
//! the same Topcon log by isoxml-js. Its times are ten years early (it counted days from 1970, not 1980):
//! the day number it counted from 1970 is ours from 1980.

use furrow_isoxml::TaskData;
use serde_json::Value;

use crate::sample;

/// Days from 1970-01-01 of a `YYYY-MM-DD` date.
fn days_since_1970(date: &str) -> i64 {
    let mut it = date.split('-').map(|p| p.parse::<i64>().unwrap());
    let (y, m, d) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let y = y - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn millis_of_day(time: &str) -> u32 {
    let t = time.trim_end_matches('Z');
    let (hms, ms) = t.split_once('.').unwrap_or((t, "0"));
    let mut it = hms.split(':').map(|p| p.parse::<u32>().unwrap());
    let (h, m, s) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    ((h * 60 + m) * 60 + s) * 1000 + ms.parse::<u32>().unwrap()
}

fn check(td: &TaskData) {
    let text = std::fs::read_to_string(sample("isoxml-py/logs/parsed.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let expected = json["timeLogs"].as_array().unwrap();
    assert_eq!(expected.len(), 207);
    assert_eq!(td.time_logs.len(), 1);
    let log = &td.time_logs[0];
    let header = log.header.as_ref().unwrap();
    let records: Vec<_> = log.records().unwrap().map(Result::unwrap).collect();
    assert_eq!(records.len(), expected.len());
    let mut values_seen = 0;
    for (i, (r, e)) in records.iter().zip(expected).enumerate() {
        let (date, time) = e["time"].as_str().unwrap().split_once('T').unwrap();
        let t = r.time.unwrap();
        assert_eq!(i64::from(t.days), days_since_1970(date), "record {i} date");
        assert_eq!(t.millis, millis_of_day(time), "record {i} time");
        let p = &e["position"];
        assert!(
            (r.latitude().unwrap() - p["PositionNorth"].as_f64().unwrap()).abs() < 1e-9,
            "record {i}"
        );
        assert!(
            (r.longitude().unwrap() - p["PositionEast"].as_f64().unwrap()).abs() < 1e-9,
            "record {i}"
        );
        assert_eq!(
            i64::from(r.position.up.unwrap()),
            p["PositionUp"].as_i64().unwrap()
        );
        assert_eq!(
            r.position.status.unwrap().to_string(),
            p["PositionStatus"].as_str().unwrap()
        );
        assert!((r.pdop().unwrap() - p["PDOP"].as_f64().unwrap()).abs() < 1e-9);
        assert!((r.hdop().unwrap() - p["HDOP"].as_f64().unwrap()).abs() < 1e-9);
        assert_eq!(
            i64::from(r.position.satellites.unwrap()),
            p["NumberOfSatellites"].as_i64().unwrap()
        );
        assert_eq!(
            i64::from(r.position.gps_utc_time.unwrap()),
            p["GpsUtcTime"].as_i64().unwrap()
        );
        assert_eq!(
            i64::from(r.position.gps_utc_date.unwrap()),
            p["GpsUtcDate"].as_i64().unwrap()
        );
        assert_eq!(
            r.has_plausible_position(),
            e["isValidPosition"].as_bool().unwrap()
        );
        let values = e["values"].as_object().unwrap();
        assert_eq!(r.values.len(), values.len(), "record {i} value count");
        for v in &r.values {
            let dlv = &header.dlvs[usize::from(v.index)];
            let key = format!(
                "{:04X}_{}",
                dlv.ddi,
                dlv.device_element_id.as_deref().unwrap()
            );
            assert_eq!(
                values[&key].as_i64().unwrap(),
                i64::from(v.value),
                "record {i} {key}"
            );
            values_seen += 1;
        }
    }
    assert_eq!(values_seen, 140, "DLV entries in the whole log");
    // Local time as logged: 14:54 local vs 15:28 GPS (UTC) on the first record; never converted.
    assert_eq!(
        records[0].time.unwrap().to_string(),
        "2021-04-09T14:54:04.969"
    );
    assert_eq!(
        records[0].gps_utc().unwrap().to_string(),
        "2021-04-09T15:28:03.799"
    );
}

/// isoxml-py's folder of the same log is only in the corpus.
#[cfg(feature = "corpus")]
#[test]
fn folder_matches_parsed_json() {
    check(&TaskData::open(crate::corpus::corpus("isoxml-py/v4/logs/TASKDATA")).unwrap());
}

#[test]
fn zip_matches_parsed_json() {
    check(&TaskData::open(sample("isoxml-js/2021-04-09T15_33_26_taskdata.zip")).unwrap());
}

#[test]
fn zip_from_reader_and_bytes_match_parsed_json() {
    let bytes = std::fs::read(sample("isoxml-js/2021-04-09T15_33_26_taskdata.zip")).unwrap();
    check(&TaskData::from_zip(std::io::Cursor::new(bytes.clone())).unwrap());
    check(&TaskData::from_bytes(bytes.clone()).unwrap());
    // 500,000 junk bytes before the archive.
    let mut junk = vec![0x5Au8; 500_000];
    junk.extend_from_slice(&bytes);
    check(&TaskData::from_bytes(junk).unwrap());
}
