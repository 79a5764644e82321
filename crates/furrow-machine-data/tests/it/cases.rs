//! The vendor layouts of issue 24, each written with the crate's own encoder: no-fix records, twin-disc
//! siblings, a harvest without a logged width, a condensed work state packed the other way round, PGN-based
//! speeds, implausible values, times past midnight and a missing binary.

use arrow_array::Array;
use furrow_machine_data::{ConvertOptions, convert_task_data};

use crate::synth::{
    COMBINE, Rec, SPRAYER, SPREADER, column, convert_one, drive, m_per_deg_lat, prop, status,
    warnings, write_task,
};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

/// Case 1: records without a fix (both coordinates 0x7FFFFFFF, status 0) are well formed: they are
/// counted (`noPosition`), get no point, and still move the carried values, the work state and the
/// machine's counters.
#[test]
fn no_fix_records_keep_their_values_states_and_totals() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = r#"<DET A="DET1" B="1" C="1" D="Spreader" E="0" F="0"/>"#;
    let dlvs = r#"<DLV A="0043" B="" C="DET1"/><DLV A="008D" B="" C="DET1"/><DLV A="0007" B="" C="DET1"/><DLV A="0074" B="" C="DET1"/>"#;
    // 2 m a record, 12 m wide: 24 m² a record while on. Records 100..150 have no fix; inside them the
    // rate changes (110) and the work stops (140); it resumes at 170.
    let on = |i: usize| !(140..170).contains(&i);
    let mut counter = 0;
    let mut records = drive(200, 1000, 2.0, |i| {
        if i > 0 && on(i) {
            counter += 24;
        }
        let mut v = vec![(3, counter)];
        if i == 0 {
            v.extend([(0, 12_000), (1, 1), (2, 10_000)]);
        }
        match i {
            110 => v.push((2, 20_000)),
            140 => v.push((1, 0)),
            170 => v.push((1, 1)),
            _ => {}
        }
        v
    });
    for r in &mut records[100..150] {
        r.north_m = None;
    }
    let td = write_task(
        &tmp.path().join("T"),
        SPREADER,
        dev,
        "Wheat",
        "",
        &[(dlvs, &records)],
    );
    let f = convert_one(&td);
    let c = f.outcome.counts;
    assert_eq!((c.raw, c.no_position, c.invalid_position), (200, 50, 0));
    assert_eq!(prop(&f, &["pointCounts", "noPosition"]), 50);
    // the raw view: the first point after the gap carries the rate and the state set inside it
    let raw = convert_task_data(
        &td,
        &ConvertOptions {
            cleanup: None,
            ..ConvertOptions::default()
        },
    )
    .unwrap()
    .remove(0);
    assert_eq!(raw.num_rows(), 150);
    let rate = column(&raw, "appliedRate");
    let st = status(&raw);
    assert_eq!(rate[99], Some(100.0));
    assert_eq!((rate[100], st[100].as_str()), (Some(200.0), "Off"));
    assert_eq!(st[120], "On");
    // the standard view: the machine counted 40 records × 24 m² while no position was logged; the
    // warning names them, and what is left agrees
    let machine = prop(&f, &["machineTotals", "totalArea", "machine"])
        .as_f64()
        .unwrap();
    let computed = prop(&f, &["machineTotals", "totalArea", "computed"])
        .as_f64()
        .unwrap();
    assert!(close(machine, 169.0 * 24.0 / 1e4, 1e-9), "{machine}");
    assert!(close(computed, 129.0 * 24.0 / 1e4, 0.01), "{computed}");
    let w = warnings(&f);
    let area_warning = w
        .iter()
        .find(|w| w.starts_with("machine counters: totalArea"))
        .expect("a reason for the area");
    assert!(
        area_warning.contains("0.0960 ha in 50 records without a position")
            && !area_warning.contains("unexplained"),
        "{area_warning}"
    );
}

const TWIN_DISC: &str = r#"<DET A="DET1" B="1" C="1" D="Spreader" E="0" F="0"/>
<DET A="DET2" B="2" C="2" D="Left" E="1" F="1"/>
<DET A="DET3" B="3" C="2" D="Right" E="2" F="1"/>"#;

/// Case 2: a twin-disc spreader logs its working width on the two halves (sibling function elements):
/// the widths add up (30 m, not 15), each half's own work state switches its half, and area and applied
/// mass agree with the machine's lifetime counters over the log.
#[test]
fn sibling_widths_add_up_and_agree_with_the_lifetime_counters() {
    let tmp = tempfile::tempdir().unwrap();
    let dlvs = r#"<DLV A="0043" B="" C="DET2"/><DLV A="0043" B="" C="DET3"/><DLV A="008D" B="" C="DET2"/><DLV A="008D" B="" C="DET3"/><DLV A="0007" B="" C="DET1"/><DLV A="010F" B="" C="DET1"/><DLV A="010A" B="" C="DET1"/>"#;
    // 2.5 m a record at 300 kg/ha (0.03 kg/m²); the right half is off for records 100..150
    let (mut area, mut mass) = (5_000_000.0f64, 80_000.0f64);
    let records = drive(300, 1000, 2.5, |i| {
        let right_on = !(100..150).contains(&i);
        if i > 0 {
            let a = (15.0 + if right_on { 15.0 } else { 0.0 }) * 2.5;
            area += a;
            mass += a * 0.03;
        }
        let mut v = vec![(5, area.round() as i32), (6, mass.floor() as i32)];
        if i == 0 {
            v.extend([(0, 15_000), (1, 15_000), (2, 1), (3, 1), (4, 30_000)]);
        }
        match i {
            100 => v.push((3, 0)),
            150 => v.push((3, 1)),
            _ => {}
        }
        v
    });
    let td = write_task(
        &tmp.path().join("T"),
        SPREADER,
        TWIN_DISC,
        "Wheat",
        "",
        &[(dlvs, &records)],
    );
    let f = convert_one(&td);
    let widths = column(&f, "equipmentWidth");
    assert!(
        widths.iter().all(|w| *w == Some(30.0)),
        "{:?}",
        &widths[..3]
    );
    // (positions are logged to 1e-7°, 1.1 cm)
    let areas = column(&f, "area");
    assert!(close(areas[50].unwrap(), 75.0, 0.01), "{:?}", areas[50]);
    assert!(
        close(areas[120].unwrap(), 37.5, 0.01),
        "the right half off: {:?}",
        areas[120]
    );
    for key in ["totalArea", "totalApplied"] {
        let t = prop(&f, &["machineTotals", key]);
        let ratio = t["ratio"].as_f64().unwrap();
        assert!(close(ratio, 1.0, 0.01), "{key}: {t}");
        assert_eq!(t["source"], "timeLogLifetimeCounter");
    }
    assert!(
        warnings(&f)
            .iter()
            .all(|w| !w.starts_with("machine counters")),
        "{:?}",
        warnings(&f)
    );
}

const HARVEST: &str = r#"<DLV A="0054" B="" C="DET1"/><DLV A="0057" B="" C="DET1"/><DLV A="008D" B="" C="DET1"/><DLV A="0063" B="" C="DET1"/>"#;

/// 100 records, 2 m a second, 8 t/ha logged, 10 kg/s of crop flow, 20 % moisture.
fn harvest_records(extra: impl Fn(usize) -> Vec<(u8, i32)>) -> Vec<Rec> {
    drive(100, 1000, 2.0, |i| {
        let mut v = extra(i);
        if i == 0 {
            v.extend([(0, 800_000), (1, 10_000_000), (2, 1), (3, 200_000)]);
        }
        v
    })
}

/// Case 3: a combine logs yield and crop flow but no working width. The width comes from the device
/// description (a default working width, or the sections' offsets), else from the machine's counters;
/// with none of them the area is unknown (null, never 0), the mass comes from crop flow and no point is
/// lost.
#[test]
fn a_harvest_without_a_logged_width_keeps_its_points() {
    let tmp = tempfile::tempdir().unwrap();
    let device =
        |extra: &str| format!(r#"<DET A="DET1" B="1" C="1" D="Combine" E="0" F="0"{extra}"#);
    // (a) a default working width (0x0044) in the device description
    let a = write_task(
        &tmp.path().join("a"),
        COMBINE,
        &format!(
            "{}<DOR A=\"10\"/></DET><DPT A=\"10\" B=\"0044\" C=\"7500\" D=\"default width\"/>",
            device(">")
        ),
        "Wheat",
        "",
        &[(HARVEST, &harvest_records(|_| vec![]))],
    );
    let f = convert_one(&a);
    assert_eq!(column(&f, "equipmentWidth")[10], Some(7.5));
    assert!(close(column(&f, "area")[10].unwrap(), 15.0, 0.01));
    // (b) sections with offsets across the machine only: 4 × 3 m
    let sections: String = [-4500, -1500, 1500, 4500]
        .iter()
        .enumerate()
        .map(|(k, y)| {
            format!(
                r#"<DET A="DET{n}" B="{n}" C="4" D="S{k}" E="{k}" F="1"><DOR A="{o}"/></DET><DPT A="{o}" B="0087" C="{y}" D="offset"/>"#,
                n = k + 2,
                o = 20 + k
            )
        })
        .collect();
    let states = (2..6)
        .map(|n| format!(r#"<DLV A="008D" B="" C="DET{n}"/>"#))
        .collect::<String>();
    let b = write_task(
        &tmp.path().join("b"),
        COMBINE,
        &format!("{}/>{sections}", device("")),
        "Wheat",
        "",
        &[(
            &format!("{HARVEST}{states}"),
            &harvest_records(|i| {
                if i == 0 {
                    (4..8).map(|k| (k, 1)).collect()
                } else {
                    vec![]
                }
            }),
        )],
    );
    let f = convert_one(&b);
    assert_eq!(column(&f, "equipmentWidth")[10], Some(12.0));
    assert!(
        warnings(&f).iter().any(|w| w.contains("section offsets")),
        "{:?}",
        warnings(&f)
    );
    // (c) nothing but the machine's counters: 9 m wide by total area over effective distance
    let counters = r#"<DLV A="0074" B="" C="DET1"/><DLV A="0075" B="" C="DET1"/>"#;
    let c = write_task(
        &tmp.path().join("c"),
        COMBINE,
        &format!("{}/>", device("")),
        "Wheat",
        "",
        &[(
            &format!("{HARVEST}{counters}"),
            &harvest_records(|i| vec![(4, i as i32 * 18), (5, i as i32 * 2_000)]),
        )],
    );
    let f = convert_one(&c);
    let w = column(&f, "equipmentWidth")[10].unwrap();
    assert!(close(w, 9.0, 1e-9), "{w}");
    assert!(
        warnings(&f)
            .iter()
            .any(|w| w.contains("machine's counters")),
        "{:?}",
        warnings(&f)
    );
    assert!(close(
        prop(&f, &["machineTotals", "totalArea", "ratio"])
            .as_f64()
            .unwrap(),
        1.0,
        0.02
    ));
    // (d) nothing at all: area unknown, masses from crop flow, every point kept
    let d = write_task(
        &tmp.path().join("d"),
        COMBINE,
        &format!("{}/>", device("")),
        "Wheat",
        "",
        &[(HARVEST, &harvest_records(|_| vec![]))],
    );
    let f = convert_one(&d);
    assert_eq!(f.outcome.counts.standard, 100);
    assert!(column(&f, "area").iter().all(Option::is_none));
    assert!(column(&f, "equipmentWidth").iter().all(Option::is_none));
    assert_eq!(prop(&f, &["totalArea", "value"]), serde_json::Value::Null);
    assert_eq!(prop(&f, &["coveredArea", "value"]), serde_json::Value::Null);
    // 99 one-second steps of 10 kg/s
    let mass = prop(&f, &["totalWetMass", "value"]).as_f64().unwrap();
    assert!(close(mass, 0.99, 1e-9), "{mass}");
    assert_eq!(column(&f, "wetMassPerArea")[10], Some(8.0), "as logged");
    assert!(
        warnings(&f)
            .iter()
            .any(|w| w.contains("working width unknown")),
        "{:?}",
        warnings(&f)
    );
}

/// A sprayer with a boom of four 3 m sections, their own work states, and the boom's condensed work state.
fn sprayer_with_condensed(tmp: &std::path::Path, own: bool, condensed: u32) -> Vec<String> {
    let mut dev = String::from(
        r#"<DET A="DET1" B="1" C="1" D="Sprayer" E="0" F="0"/><DET A="DET2" B="2" C="2" D="Boom" E="1" F="1"/>"#,
    );
    for k in 0..4 {
        dev.push_str(&format!(
            r#"<DET A="DET{n}" B="{n}" C="4" D="S{k}" E="{e}" F="2"><DOR A="{o}"/></DET><DPT A="{o}" B="0043" C="3000" D="width"/>"#,
            n = k + 3,
            e = k + 10,
            o = 30 + k
        ));
    }
    let mut dlvs = String::from(r#"<DLV A="0002" B="" C="DET1"/><DLV A="00A1" B="" C="DET2"/>"#);
    if own {
        for n in 3..7 {
            dlvs.push_str(&format!(r#"<DLV A="008D" B="" C="DET{n}"/>"#));
        }
    }
    let records = drive(100, 1000, 2.0, |i| {
        if i > 0 {
            return vec![];
        }
        let mut v = vec![(0, 2_000_000), (1, condensed as i32)];
        if own {
            v.extend((2..6).map(|k| (k, 1)));
        }
        v
    });
    let td = write_task(tmp, SPRAYER, &dev, "Wheat", "", &[(&dlvs, &records)]);
    let f = convert_one(&td);
    assert_eq!(f.outcome.counts.standard, 100, "every point on");
    assert!(
        column(&f, "area")[10..]
            .iter()
            .all(|a| close(a.unwrap(), 24.0, 0.01))
    );
    warnings(&f)
}

/// Case 4: a condensed work state packed with section 1 in the most significant bits (TAFM/Amazone)
/// must not switch off sections whose own work state says on; the bit order is read off the data (the
/// slots of absent sections, the sections' own states), and a real disagreement is a warning.
#[test]
fn condensed_work_state_in_either_bit_order_never_overrides_a_sections_own_state() {
    let tmp = tempfile::tempdir().unwrap();
    // sections 1-4 on, packed from the top, the absent sections' slots 00
    let msb = 0x5500_0000;
    let w = sprayer_with_condensed(&tmp.path().join("a"), true, msb);
    assert!(
        w.iter().any(|w| w.contains("most significant bits")),
        "{w:?}"
    );
    assert!(w.iter().all(|w| !w.contains("disagreed")), "{w:?}");
    // without the sections' own states: the absent slots decide the order alone
    let w = sprayer_with_condensed(&tmp.path().join("b"), false, msb);
    assert!(
        w.iter()
            .any(|w| w.contains("shown by the slots of absent sections")),
        "{w:?}"
    );
    // the standard order, saying off where the sections say on: their own state wins, with a warning
    let lsb_off = 0xFFFF_FF00;
    let w = sprayer_with_condensed(&tmp.path().join("c"), true, lsb_off);
    assert!(w.iter().any(|w| w.contains("disagreed")), "{w:?}");
    assert!(w.iter().all(|w| !w.contains("most significant")), "{w:?}");
}

/// Case 5: CNH logs carry the speed in PGN-based DLVs (DFFE): the ground-based speed is read (its
/// "not available" value is not), the course over ground goes to `extra` in degrees; and a file whose
/// points are all dropped says why in its summary.
#[test]
fn pgn_speeds_are_read_and_dropped_points_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = r#"<DET A="DET1" B="1" C="1" D="Sprayer" E="0" F="0"><DOR A="10"/></DET><DPT A="10" B="0043" C="24000" D="width"/>"#;
    let dlvs = r#"<DLV A="DFFE" B="" C="DET1" D="65097" E="0" F="15"/><DLV A="DFFE" B="" C="DET1" D="129026" E="16" F="31"/><DLV A="0002" B="" C="DET1"/>"#;
    let rate = |r: i32| {
        move |i: usize| {
            let speed = if i == 50 { 0xFFFF } else { 2_500 };
            let mut v = vec![(0, speed), (1, 15_708)];
            if i == 0 {
                v.push((2, r));
            }
            v
        }
    };
    let td = write_task(
        &tmp.path().join("a"),
        SPRAYER,
        dev,
        "Wheat",
        "",
        &[(dlvs, &drive(100, 1000, 2.0, rate(2_000_000)))],
    );
    let f = convert_one(&td);
    let speed = column(&f, "speed");
    assert_eq!(speed[10], Some(2.5), "ground-based speed, PGN 65097");
    let s50 = speed[50].unwrap();
    assert!(
        close(s50, 2.0, 0.01),
        "not available: from the positions ({s50})"
    );
    let extra = f.batches[0]
        .column_by_name("extra")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::MapArray>()
        .unwrap()
        .value(10);
    let keys = extra
        .column(0)
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    let values = extra
        .column(1)
        .as_any()
        .downcast_ref::<arrow_array::Float64Array>()
        .unwrap();
    // the speed is consumed; the course over ground is kept, in degrees
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys.value(0), "DFFE/DET1/pgn129026:16-31");
    assert!(close(values.value(0), 90.0, 1e-3), "COG in degrees");
    // a log whose rates are all 0: every point dropped, and the summary says by which rule
    let td = write_task(
        &tmp.path().join("b"),
        SPRAYER,
        dev,
        "Wheat",
        "",
        &[(dlvs, &drive(100, 1000, 2.0, rate(0)))],
    );
    let f = convert_one(&td);
    assert_eq!(f.outcome.counts.standard, 0);
    assert_eq!(prop(&f, &["pointCounts", "cleanedBy", "appliedRate"]), 100);
    assert!(
        warnings(&f)
            .iter()
            .any(|w| w.starts_with("0 of 100 records are standard points")
                && w.contains("100 by the rule on appliedRate")),
        "{:?}",
        warnings(&f)
    );
}

/// Case 6: a combine at 38 m/s and a logged 500 t/ha are dropped and counted under their own names; a
/// yield per area derived from crop flow over a tiny area is unknown while the mass stays; dry mass
/// from crop flow follows the shrink formula, or equals wet mass with a note when the crop has no standard
/// moisture.
#[test]
fn implausible_values_are_dropped_or_unknown_and_dry_mass_follows_the_flow() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = r#"<DET A="DET1" B="1" C="1" D="Combine" E="0" F="0"><DOR A="10"/></DET><DPT A="10" B="0043" C="7500" D="width"/>"#;
    let dlvs = r#"<DLV A="0054" B="" C="DET1"/><DLV A="018D" B="" C="DET1"/><DLV A="0063" B="" C="DET1"/>"#;
    let records = drive(100, 1000, 2.0, |i| {
        let mut v = vec![(1, if (50..60).contains(&i) { 38_000 } else { 2_000 })];
        v.push((
            0,
            if (70..75).contains(&i) {
                50_000_000
            } else {
                800_000
            },
        ));
        if i == 0 {
            v.push((2, 200_000));
        }
        v
    });
    let td = write_task(
        &tmp.path().join("a"),
        COMBINE,
        dev,
        "Corn",
        "",
        &[(dlvs, &records)],
    );
    let f = convert_one(&td);
    let c = f.outcome.counts;
    assert_eq!((c.implausible_speed, c.implausible_yield), (10, 5));
    assert_eq!(prop(&f, &["pointCounts", "implausibleSpeed"]), 10);
    assert!(column(&f, "speed").iter().all(|s| s.unwrap() < 15.0));
    // crop flow only, and the combine creeping 2 cm a second for ten records while the crop flows
    let dlvs = r#"<DLV A="0057" B="" C="DET1"/><DLV A="0063" B="" C="DET1"/>"#;
    let mut north = 0.0;
    let records: Vec<Rec> = (0..60)
        .map(|i| {
            north += if (30..40).contains(&i) { 0.02 } else { 2.0 };
            Rec {
                ms: i as u64 * 1000,
                north_m: Some(north),
                east_m: 0.0,
                values: if i == 0 {
                    vec![(0, 10_000_000), (1, 250_000)]
                } else {
                    vec![]
                },
                raw_time: None,
            }
        })
        .collect();
    for (crop, dry_ratio) in [("Corn", (100.0 - 25.0) / (100.0 - 15.5)), ("Potatoes", 1.0)] {
        let td = write_task(
            &tmp.path().join(crop),
            COMBINE,
            dev,
            crop,
            "",
            &[(dlvs, &records)],
        );
        let f = convert_one(&td);
        assert_eq!(f.outcome.counts.yield_per_area_unknown, 10, "{crop}");
        let ypa = column(&f, "wetMassPerArea");
        assert!(ypa[35].is_none() && ypa[45].is_some(), "{crop}");
        let wet = prop(&f, &["totalWetMass", "value"]).as_f64().unwrap();
        let dry = prop(&f, &["totalDryMass", "value"]).as_f64().unwrap();
        assert!(
            close(wet, 0.59, 1e-9),
            "{crop}: all the flow counts ({wet})"
        );
        assert!(close(dry / wet, dry_ratio, 1e-9), "{crop}: {dry} / {wet}");
        let note = warnings(&f)
            .into_iter()
            .any(|w| w.contains("no standard moisture is known for the crop (potatoes)"));
        assert_eq!(note, crop == "Potatoes");
    }
}

/// Case 7: a terminal that keeps counting milliseconds past midnight (and one that writes 86,400,000)
/// loses no record: the time rolls to the next day, with one warning.
#[test]
fn times_past_midnight_roll_the_date() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = r#"<DET A="DET1" B="1" C="1" D="Sprayer" E="0" F="0"><DOR A="10"/></DET><DPT A="10" B="0043" C="24000" D="width"/>"#;
    let dlvs = r#"<DLV A="0002" B="" C="DET1"/>"#;
    let mut records = drive(30, 1000, 2.0, |i| {
        if i == 0 { vec![(0, 2_000_000)] } else { vec![] }
    });
    // from 23:59:50 on day 15,918, the day never advanced
    for (i, r) in records.iter_mut().enumerate() {
        r.raw_time = Some((15_918, 86_390_000 + i as u32 * 1000));
    }
    let td = write_task(
        &tmp.path().join("a"),
        SPRAYER,
        dev,
        "Wheat",
        "",
        &[(dlvs, &records)],
    );
    let f = convert_one(&td);
    assert_eq!(f.outcome.counts.raw, 30);
    assert_eq!(f.outcome.counts.standard, 30);
    let local = f.batches[0]
        .column_by_name("localTime")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::TimestampMillisecondArray>()
        .unwrap()
        .clone();
    // 2023-08-01 is day 15,918 since 1980; 86,400,000 ms is 2023-08-02T00:00:00
    let midnight = (15_918 + 3_652 + 1) * 86_400_000i64;
    assert_eq!(local.value(10), midnight);
    assert!((1..30).all(|i| local.value(i) - local.value(i - 1) == 1000));
    assert_eq!(
        prop(&f, &["endTime"]).as_str(),
        Some("2023-08-02T00:00:19.000")
    );
    let rolled: Vec<&String> = f
        .outcome
        .warnings
        .iter()
        .filter(|w| w.contains("24 h"))
        .collect();
    assert_eq!(rolled.len(), 1, "{:?}", f.outcome.warnings);
}

/// Case 8: a time log whose binary is missing is named in the converted file of its task (the other
/// logs convert), and `TimeLog::problem` still says why.
#[test]
fn a_missing_binary_is_reported_by_the_converter() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = r#"<DET A="DET1" B="1" C="1" D="Sprayer" E="0" F="0"><DOR A="10"/></DET><DPT A="10" B="0043" C="24000" D="width"/>"#;
    let dlvs = r#"<DLV A="0002" B="" C="DET1"/>"#;
    let records = drive(20, 1000, 2.0, |i| {
        if i == 0 { vec![(0, 2_000_000)] } else { vec![] }
    });
    let dir = tmp.path().join("a");
    write_task(
        &dir,
        SPRAYER,
        dev,
        "Wheat",
        "",
        &[(dlvs, &records), (dlvs, &records)],
    );
    std::fs::remove_file(dir.join("TLG00002.BIN")).unwrap();
    let td = furrow_isoxml::TaskData::open(&dir).unwrap();
    assert_eq!(
        td.time_logs[1].problem().as_deref(),
        Some("TLG00002.BIN is missing")
    );
    let f = convert_one(&td);
    assert_eq!(f.outcome.counts.raw, 20);
    let says = |w: &String| w.contains("TLG00002") && w.contains("TLG00002.BIN is missing");
    assert!(
        f.outcome.warnings.iter().any(says),
        "{:?}",
        f.outcome.warnings
    );
    assert!(warnings(&f).iter().any(says), "{:?}", warnings(&f));
}

/// The positions `drive` writes are 2 m apart northwards: a check of the synthetic set itself.
#[test]
fn synthetic_steps_are_two_metres() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = r#"<DET A="DET1" B="1" C="1" D="Sprayer" E="0" F="0"><DOR A="10"/></DET><DPT A="10" B="0043" C="24000" D="width"/>"#;
    let td = write_task(
        &tmp.path().join("a"),
        SPRAYER,
        dev,
        "Wheat",
        "",
        &[(
            r#"<DLV A="0002" B="" C="DET1"/>"#,
            &drive(5, 1000, 2.0, |_| vec![(0, 2_000_000)]),
        )],
    );
    let f = convert_one(&td);
    let d = column(&f, "distance");
    // 1e-7° of latitude (the log's resolution) is 1.1 cm
    assert!(
        d[1..].iter().all(|d| (d.unwrap() - 2.0).abs() < 0.012),
        "{d:?}"
    );
    assert!(m_per_deg_lat() > 111_000.0);
}
