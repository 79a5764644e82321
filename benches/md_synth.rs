//! Synthetic ISOXML harvest data for the machine-data benchmarks: a TASKDATA folder with one time log of
//! any size, written by streaming records through `furrow_isoxml::RecordLayout::encode`.

use std::io::Write;
use std::path::Path;

use furrow_isoxml::{DlvValue, LoggedDateTime, Record, RecordPosition, TimeLogHeader};

const TASKDATA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ISO11783_TaskData VersionMajor="4" VersionMinor="2" ManagementSoftwareManufacturer="furrow" ManagementSoftwareVersion="1" DataTransferOrigin="2">
<CTP A="CTP1" B="Corn"/>
<PFD A="PFD1" C="Field" D="100000" G="CTP1"/>
<DVC A="DVC1" B="Combine" D="A00E84000DF0E439" E="SN1">
<DET A="DET1" B="1" C="1" D="Combine" E="0" F="0"><DOR A="10"/></DET>
<DPT A="10" B="0043" C="9000" D="width"/>
</DVC>
<TSK A="TSK1" B="Harvest" E="PFD1" G="4"><TLG A="TLG00001" C="1"/></TSK>
</ISO11783_TaskData>
"#;

const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<TIM A="" D="4"><PTN A="" B="" C="" D=""/>
<DLV A="0054" B="" C="DET1"/><DLV A="0063" B="" C="DET1"/><DLV A="018D" B="" C="DET1"/><DLV A="008D" B="" C="DET1"/><DLV A="0043" B="" C="DET1"/>
</TIM>
"#;

/// Writes a TASKDATA folder into `dir` whose time log binary is about `bytes` long; returns the number of
/// records. 10 Hz, 2.5 m/s, 9 m wide passes 1 km long; yield and speed every record, moisture every 20th.
pub(crate) fn write_taskdata(dir: &Path, bytes: u64) -> std::io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("TASKDATA.XML"), TASKDATA)?;
    std::fs::write(dir.join("TLG00001.XML"), HEADER)?;
    let (header, _) = TimeLogHeader::parse(HEADER.as_bytes(), "TLG00001.XML")
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let layout = header.layout();
    let mut out = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(dir.join("TLG00001.BIN"))?,
    );
    let mut buf = Vec::with_capacity(64);
    let (mut written, mut n) = (0u64, 0u64);
    let m_per_deg_lat = 111_195.0;
    let m_per_deg_lon = m_per_deg_lat * 41.6f64.to_radians().cos();
    let mut rec = Record::default();
    while written < bytes {
        let i = n;
        let along = (i % 4000) as f64 * 0.25; // 1 km passes
        let lane = (i / 4000) % 200;
        let y = if lane % 2 == 0 { along } else { 1000.0 - along };
        let x = lane as f64 * 9.0;
        let ms = 36_000_000 + i * 100;
        rec.time = Some(LoggedDateTime {
            days: 16_000 + (ms / 86_400_000) as u16,
            millis: (ms % 86_400_000) as u32,
        });
        rec.position = RecordPosition {
            north: Some(((41.6 + y / m_per_deg_lat) * 1e7) as i32),
            east: Some(((-93.5 + x / m_per_deg_lon) * 1e7) as i32),
            up: Some(280_000),
            status: Some(4),
            ..RecordPosition::default()
        };
        rec.values.clear();
        rec.values.push(DlvValue {
            index: 0,
            value: 1_000_000 + (i % 97) as i32 * 5_000,
        });
        rec.values.push(DlvValue {
            index: 2,
            value: 2_500,
        });
        if i % 20 == 0 {
            rec.values.push(DlvValue {
                index: 1,
                value: 180_000 + (i % 13) as i32 * 1_000,
            });
        }
        if i == 0 {
            rec.values.push(DlvValue { index: 3, value: 1 });
            rec.values.push(DlvValue {
                index: 4,
                value: 9_000,
            });
        }
        buf.clear();
        layout.encode(&rec, &mut buf);
        out.write_all(&buf)?;
        written += buf.len() as u64;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}
