//! Criterion benchmarks of furrow-isoxml: time-log decoding throughput on synthetic logs and on the real CCI
//! logs of the repository's samples, and whole-TASKDATA parsing of every sample (XML model + every time log).
//! They read `samples/isoxml` only, so they run from a bare clone.
//!
//! Peak memory of a streamed 1 GB log is measured by `isoxml-memory.rs`; the isoxml-js comparison by
//! `isoxml-js-compare.sh`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use furrow_isoxml::{
    DlvValue, LoggedDateTime, Record, RecordPosition, RecordReader, Summary, TaskData,
    TimeLogHeader,
};

/// Topcon-like header: all nine position fields, four DLVs.
const TOPCON: &str = r#"<TIM A="" D="4"><PTN A="" B="" C="" D="" E="" F="" G="" H="" I=""/>
<DLV A="0090" B="" C="DET-1"/><DLV A="0091" B="" C="DET-1"/><DLV A="0092" B="" C="DET-1"/><DLV A="018D" B="" C="DET-1"/></TIM>"#;

/// CCI-like header: north, east, status and 26 DLVs.
fn cci_header() -> String {
    let mut s = String::from(r#"<TIM A="" D="4"><PTN A="" B="" D=""/>"#);
    for i in 0..26 {
        s.push_str(&format!(r#"<DLV A="{:04X}" B="" C="DET-1"/>"#, 0x43 + i));
    }
    s.push_str("</TIM>");
    s
}

/// `n` records; each carries `per_record` DLV entries.
pub fn synthetic_log(header: &TimeLogHeader, n: usize, per_record: usize) -> Vec<u8> {
    let layout = header.layout();
    let dlvs = header.dlvs.len().max(1);
    let mut out = Vec::with_capacity(n * (layout.fixed_len() + 1 + 5 * per_record));
    for i in 0..n {
        let r = Record {
            offset: 0,
            time: Some(LoggedDateTime {
                days: 15_000,
                millis: (i as u32 % 86_000) * 1000,
            }),
            position: RecordPosition {
                north: Some(455_277_534 + (i % 1000) as i32),
                east: Some(95_777_866 + (i % 777) as i32),
                up: Some(173_902),
                status: Some(4),
                pdop: Some(11),
                hdop: Some(6),
                satellites: Some(24),
                gps_utc_time: Some(55_683_799),
                gps_utc_date: Some(15_000),
            },
            values: (0..per_record)
                .map(|k| DlvValue {
                    index: ((i + k) % dlvs) as u8,
                    value: (i * 31 + k) as i32,
                })
                .collect(),
        };
        layout.encode(&r, &mut out);
    }
    out
}

fn decode(header: &TimeLogHeader, bytes: &[u8]) -> (u64, i64) {
    let mut reader = RecordReader::new(header, bytes, "bench");
    let (mut n, mut sum) = (0u64, 0i64);
    while let Ok(Some(v)) = reader.next_record() {
        n += 1;
        sum += i64::from(v.position.north.unwrap_or(0));
        for x in v.values() {
            sum += i64::from(x.value);
        }
    }
    (n, sum)
}

/// The repository's ISOXML samples (see their MANIFEST.md).
fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/isoxml")
}

/// Zips, folders with a TASKDATA.XML, lone XML files (as the corpus test enumerates them).
fn corpus_inputs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    let has = entries.iter().any(|p| {
        p.is_file()
            && p.file_name()
                .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case("TASKDATA.XML"))
    });
    if has {
        out.push(dir.to_path_buf());
    }
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_uppercase())
            .unwrap_or_default();
        if p.is_dir() {
            corpus_inputs(&p, out);
        } else if name.ends_with(".ZIP")
            || (!has && name.ends_with(".XML") && !name.starts_with("._"))
        {
            out.push(p);
        }
    }
}

fn bench_timelog(c: &mut Criterion) {
    let mut g = c.benchmark_group("timelog_decode");
    let (topcon, _) = TimeLogHeader::parse(TOPCON.as_bytes(), "h").expect("header");
    let bytes = synthetic_log(&topcon, 400_000, 4);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("synthetic_topcon_9pos_4dlv", |b| {
        b.iter(|| black_box(decode(&topcon, &bytes)))
    });
    let (cci, _) = TimeLogHeader::parse(cci_header().as_bytes(), "h").expect("header");
    let bytes = synthetic_log(&cci, 300_000, 10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("synthetic_cci_3pos_10dlv", |b| {
        b.iter(|| black_box(decode(&cci, &bytes)))
    });

    // The real CCI logs of isoxml-dotnet's ValidTimeLogs (a sample zip), from memory.
    let zip_path = samples_dir().join("isoxml-dotnet/ValidTimeLogs.zip");
    let td = TaskData::open(&zip_path).expect("samples/isoxml/isoxml-dotnet/ValidTimeLogs.zip");
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&zip_path).expect("sample zip")).expect("zip");
    let logs: Vec<(TimeLogHeader, Vec<u8>)> = td
        .time_logs
        .iter()
        .filter_map(|l| {
            let h = l.header.clone()?;
            let name = l.binary_file()?.to_ascii_uppercase();
            let index = (0..archive.len()).find(|&i| {
                archive
                    .name_for_index(i)
                    .is_some_and(|n| n.to_ascii_uppercase().ends_with(&name))
            })?;
            let mut bin = Vec::new();
            std::io::Read::read_to_end(&mut archive.by_index(index).ok()?, &mut bin).ok()?;
            Some((h, bin))
        })
        .collect();
    assert_eq!(logs.len(), 21, "ValidTimeLogs holds 21 time logs");
    let total: usize = logs.iter().map(|l| l.1.len()).sum();
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("corpus_cci_21_logs", |b| {
        b.iter(|| logs.iter().map(|(h, bin)| decode(h, bin).0).sum::<u64>())
    });
    g.finish();
}

fn bench_corpus(c: &mut Criterion) {
    let mut inputs = Vec::new();
    corpus_inputs(&samples_dir(), &mut inputs);
    assert_eq!(inputs.len(), 19, "samples/isoxml holds 19 inputs");
    let mut g = c.benchmark_group("taskdata_parse");
    g.sample_size(10);
    g.bench_function("corpus_open_all_and_summarise", |b| {
        b.iter(|| {
            let mut records = 0u64;
            for input in &inputs {
                if let Ok(sets) = TaskData::open_all(input) {
                    for td in &sets {
                        records += Summary::of(td)
                            .time_logs
                            .iter()
                            .filter_map(|t| t.records)
                            .sum::<u64>();
                    }
                }
            }
            black_box(records)
        })
    });
    g.bench_function("corpus_model_only", |b| {
        b.iter(|| {
            inputs
                .iter()
                .filter_map(|i| TaskData::open_all(i).ok())
                .map(|s| s.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_timelog, bench_corpus);
criterion_main!(benches);
