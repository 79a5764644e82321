//! Seed data: organizations, fields with boundaries and machine files. The machine files are what each
//! provider really delivers (`docs/PROVIDERS.md`), embedded in the binary or generated in code, never read from
//! outside it: ISOXML exports from the repository's `samples/` (CLAAS, CNHi, Stara, John Deere's ISO display),
//! John Deere's native display files from `samples/`, and synthetic files in the providers' own layouts
//! ([`crate::synthetic`]): Ag Leader SMS shapefile exports and INTEGRA display data, Raven Slingshot shapefile
//! exports, Precision Planting 20|20 files (Climate FieldView, Panorama).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};

use crate::synthetic::{Application, Harvest, proprietary_zip};

use bytes::Bytes;
use furrow_model::MultiPolygon;
use sha2::{Digest, Sha256};

/// A seeded organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOrganization {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Whether the integrator app is connected to it (John Deere's connection step).
    pub connected: bool,
}

/// A seeded field.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedField {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Organization id.
    pub organization_id: String,
    /// Farm id.
    pub farm_id: String,
    /// Grower id.
    pub grower_id: String,
    /// Boundary (lon/lat).
    pub boundary: MultiPolygon,
}

/// A seeded machine file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFile {
    /// Id.
    pub id: String,
    /// File name.
    pub name: String,
    /// Organization id.
    pub organization_id: String,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// The bytes served.
    pub bytes: Bytes,
    /// Hex sha256 of `bytes`.
    pub sha256: String,
}

impl SeedFile {
    fn new(id: String, name: String, organization_id: &str, created: i64, bytes: Vec<u8>) -> Self {
        let sha256 = hex(&Sha256::digest(&bytes));
        SeedFile {
            id,
            name,
            organization_id: organization_id.to_owned(),
            created,
            bytes: Bytes::from(bytes),
            sha256,
        }
    }

    /// Creation time, RFC 3339.
    pub fn created_rfc3339(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.created)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
}

/// A seeded piece of irrigation equipment (Lindsay, Valley).
#[derive(Debug, Clone, PartialEq)]
pub struct SeedEquipment {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Organization id.
    pub organization_id: String,
    /// `pivot` or `lateral`.
    pub kind: String,
    /// Length, metres.
    pub length_m: f64,
    /// Position, `[lon, lat]`.
    pub location: [f64; 2],
}

/// A seeded as-applied irrigation event.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedIrrigation {
    /// Id.
    pub id: String,
    /// The equipment that applied it.
    pub equipment_id: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Depth, millimetres.
    pub depth_mm: f64,
}

/// A seeded imagery or analytics layer (Sentera).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedImagery {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Organization id.
    pub organization_id: String,
    /// Field id.
    pub field_id: String,
    /// Layer type (`NDVI`, `RGB`, `STAND_COUNT`).
    pub kind: String,
    /// Capture time, Unix seconds.
    pub captured: i64,
}

/// RFC 3339 of Unix seconds (empty when out of range).
pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The data every simulator serves.
#[derive(Debug)]
pub struct Seed {
    /// Organizations; the last one is not connected.
    pub organizations: Vec<SeedOrganization>,
    /// Fields.
    pub fields: Vec<SeedField>,
    /// Irrigation equipment (served by the irrigation providers only).
    pub equipment: Vec<SeedEquipment>,
    /// As-applied irrigation of that equipment, oldest first.
    pub irrigation: Vec<SeedIrrigation>,
    /// Imagery and analytics layers (served by Sentera only).
    pub imagery: Vec<SeedImagery>,
    files: RwLock<Vec<SeedFile>>,
}

/// 2024-03-01T00:00:00Z: files are created a day apart from here.
const FIRST_FILE: i64 = 1_709_251_200;

/// Machine files the ISOXML simulators serve: real terminal exports from the repository's `samples/`, embedded
/// in the binary so that the simulators (and `furrow-server --demo`) work from any folder.
const SAMPLE_ZIPS: &[(&str, &[u8])] = &[
    (
        "AFE.zip",
        include_bytes!("../../../samples/isoxml/isoxml-dotnet/AFE.zip"),
    ),
    (
        "2021-04-09T15_33_26_taskdata.zip",
        include_bytes!("../../../samples/isoxml/isoxml-js/2021-04-09T15_33_26_taskdata.zip"),
    ),
    (
        "ValidTimeLogs.zip",
        include_bytes!("../../../samples/isoxml/isoxml-dotnet/ValidTimeLogs.zip"),
    ),
];

/// Native display files John Deere accounts list among their files (GS2, GS3, Gen4: no public specification),
/// from the repository's samples (John Deere's SampleData, MIT).
const JOHN_DEERE_DISPLAY_ZIPS: &[(&str, &[u8])] = &[
    (
        "GS2 - 2600 Documentation Data - Field 1.zip",
        include_bytes!(
            "../../../samples/shapefile/john-deere/Display data/GS2 - 2600 Documentation Data - Field 1.zip"
        ),
    ),
    (
        "GS3 - 2630 Planting With 4 Rates.zip",
        include_bytes!(
            "../../../samples/shapefile/john-deere/Display data/GS3 - 2630 Planting With 4 Rates.zip"
        ),
    ),
    (
        "Gen4 - 4600 Harvest Data.zip",
        include_bytes!(
            "../../../samples/shapefile/john-deere/Display data/Gen4 - 4600 Harvest Data.zip"
        ),
    ),
];

/// Climate FieldView's activity contents, one per layer kind in `asPlanted`, `asHarvested`, `asApplied` order
/// (the simulator serves file `i` under kind `i % 3`): zips of Precision Planting 20|20 files, `.2020` from
/// Gen3 monitors and `.dat` from Gen2 (providers.md 3.7). The harvest is over 2 MiB, so downloads take several
/// `Range` chunks.
pub(crate) fn climate_files() -> &'static [(&'static str, Vec<u8>)] {
    static FILES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        vec![
            (
                "2023-05-02 Planting - North 40.zip",
                proprietary_zip(
                    &[(
                        "North 40/2023-05-02_Planting.2020",
                        "a Precision Planting 20|20 Gen3 planting file (.2020)",
                        180_000,
                    )],
                    1,
                ),
            ),
            (
                "2023-10-04 Harvest - North 40.zip",
                proprietary_zip(
                    &[(
                        "North 40/2023-10-04_Harvest.2020",
                        "a Precision Planting 20|20 Gen3 harvest file (.2020)",
                        2_300_000,
                    )],
                    2,
                ),
            ),
            (
                "2023-06-10 Application - Creek Bottom.zip",
                proprietary_zip(
                    &[(
                        "Creek Bottom/20230610_Application.dat",
                        "a Precision Planting 20|20 Gen2 application file (.dat)",
                        120_000,
                    )],
                    3,
                ),
            ),
        ]
    })
}

/// Panorama's machine files: Precision Planting 20|20 zips, `.dat` (Gen1/2) and `.2020` (Gen3) (providers.md
/// 11).
pub(crate) fn panorama_files() -> &'static [(&'static str, Vec<u8>)] {
    static FILES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        vec![
            (
                "North 40 - Planting 2024.zip",
                proprietary_zip(
                    &[(
                        "2024/North 40/Planting.2020",
                        "a Precision Planting 20|20 Gen3 planting file (.2020)",
                        150_000,
                    )],
                    11,
                ),
            ),
            (
                "Creek Bottom - Planting 2024.zip",
                proprietary_zip(
                    &[(
                        "2024/Creek Bottom/Planting.2020",
                        "a Precision Planting 20|20 Gen3 planting file (.2020)",
                        110_000,
                    )],
                    12,
                ),
            ),
            (
                "North 40 - Harvest 2023 (Gen2).zip",
                proprietary_zip(
                    &[
                        (
                            "North 40/2023/20231004.dat",
                            "a Precision Planting 20|20 Gen2 harvest file (.dat)",
                            90_000,
                        ),
                        (
                            "North 40/2023/20231005.dat",
                            "a Precision Planting 20|20 Gen2 harvest file (.dat)",
                            60_000,
                        ),
                    ],
                    13,
                ),
            ),
        ]
    })
}

/// The SMS harvest sets the Ag Leader simulator serves, by file: a single-field export, and one export holding
/// two fields (one file per set after conversion).
pub(crate) const AG_LEADER_HARVESTS: &[&[Harvest]] = &[
    &[Harvest {
        stem: "Prairie Farms_North 40_2023_Soybeans_Harvest",
        field: "North 40",
        product: "SOYBEANS",
        lb_per_bu: 60.0,
        standard_moisture: 13.0,
        dry_bu_ac: 58.0,
        date: "20231004",
        origin: (-93.6185, 41.6015),
        size: (20, 120),
        seed: 21,
    }],
    &[
        Harvest {
            stem: "Prairie Farms_Creek Bottom_2023_Corn_Harvest",
            field: "Creek Bottom",
            product: "CORN",
            lb_per_bu: 56.0,
            standard_moisture: 15.5,
            dry_bu_ac: 196.0,
            date: "20231019",
            origin: (-93.5985, 41.6012),
            size: (24, 150),
            seed: 22,
        },
        Harvest {
            stem: "Prairie Farms_Split Quarter_2023_Soybeans_Harvest",
            field: "Split Quarter",
            product: "SOYBEANS",
            lb_per_bu: 60.0,
            standard_moisture: 13.0,
            dry_bu_ac: 54.0,
            date: "20231006",
            origin: (-93.5395, 41.6004),
            size: (16, 100),
            seed: 23,
        },
    ],
];

/// Ag Leader's machine files: SMS shapefile exports (synthetic, in SMS's column layout; providers.md 6) and
/// INTEGRA display data (`.agdata` + `.agsetup`, unsupported).
pub(crate) fn ag_leader_files() -> &'static [(&'static str, Vec<u8>)] {
    static FILES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let export =
            |sets: &[Harvest]| zip_of(&sets.iter().flat_map(Harvest::files).collect::<Vec<_>>());
        vec![
            (
                "SMS Export - North 40 - 2023 Harvest.zip",
                export(AG_LEADER_HARVESTS[0]),
            ),
            (
                "SMS Export - 2023 Harvest.zip",
                export(AG_LEADER_HARVESTS[1]),
            ),
            (
                "INTEGRA - 2024 Planting.zip",
                proprietary_zip(
                    &[
                        (
                            "2024 Planting/North 40_Planting.agdata",
                            "Ag Leader INTEGRA display data (.agdata)",
                            70_000,
                        ),
                        (
                            "2024 Planting/Display Setup.agsetup",
                            "an Ag Leader INTEGRA display setup (.agsetup)",
                            8_000,
                        ),
                    ],
                    31,
                ),
            ),
        ]
    })
}

/// The application jobs the Slingshot simulator serves, each as its shapefile export.
pub(crate) const SLINGSHOT_JOBS: &[Application] = &[
    Application {
        stem: "North 40 - Herbicide - 2024-05-14",
        product: "Glyphosate + AMS",
        target_gal_ac: 15.0,
        start: "2024-05-14T14:02:00",
        origin: (-93.6185, 41.6015),
        size: (16, 120),
        seed: 41,
    },
    Application {
        stem: "Split Quarter - Liquid N - 2024-06-05",
        product: "UAN 32%",
        target_gal_ac: 20.0,
        start: "2024-06-05T16:30:00",
        origin: (-93.5495, 41.6004),
        size: (8, 60),
        seed: 42,
    },
    Application {
        stem: "Creek Bottom - Fungicide - 2024-07-20",
        product: "Fungicide tank mix",
        target_gal_ac: 10.0,
        start: "2024-07-20T13:15:00",
        origin: (-93.5985, 41.6012),
        size: (6, 140),
        seed: 43,
    },
];

/// Raven Slingshot's machine files: each job's shapefile export, what `GET /JobData/{id}?format=shp` answers
/// (providers.md 7.1). The job is listed by its name; the zip holds one shapefile set of that name.
pub(crate) fn slingshot_files() -> &'static [(&'static str, Vec<u8>)] {
    static FILES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        SLINGSHOT_JOBS
            .iter()
            .map(|job| (job.stem, zip_of(&job.files())))
            .collect()
    })
}

/// The machine file of the second organization.
const HILLSIDE_ZIP: &[u8] = include_bytes!("../../../samples/isoxml/isoxml-dotnet/TotalsTests.zip");

/// The repository's `samples/` folder (for tests and benchmarks built from a checkout; binaries embed what
/// they serve).
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

/// The shared folder of references and the larger optional corpora: `FURROW_SHARED_DIR` when set, else
/// `shared/` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("FURROW_SHARED_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    )
}

/// The shared ISOXML corpus: `isoxml-corpus` in [`shared_dir`] (optional; the tests that need it run with
/// the `corpus` feature).
pub fn corpus_dir() -> PathBuf {
    shared_dir().join("isoxml-corpus")
}

fn square(lon: f64, lat: f64, d: f64) -> Vec<[f64; 2]> {
    vec![
        [lon, lat],
        [lon + d, lat],
        [lon + d, lat + d],
        [lon, lat + d],
        [lon, lat],
    ]
}

/// A zip of `files` (name, content).
pub fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            // Fixed time: the same input gives the same bytes.
            .last_modified_time(zip::DateTime::default());
        for (name, content) in files {
            if z.start_file(name.as_str(), opts).is_ok() {
                let _ = z.write_all(content);
            }
        }
        let _ = z.finish();
    }
    out.into_inner()
}

/// A small, valid ISOXML task set (used when the corpus is absent and for generated files).
pub fn generated_taskdata(n: usize) -> Vec<u8> {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ISO11783_TaskData VersionMajor="4" VersionMinor="2" DataTransferOrigin="1" ManagementSoftwareManufacturer="furrow-sim">
  <CTR A="CTR1" B="Grower {n}"/>
  <FRM A="FRM1" B="Farm {n}" I="CTR1"/>
  <PFD A="PFD1" C="Field {n}" D="10000" E="CTR1" F="FRM1">
    <PLN A="1"><LSG A="1"><PNT A="2" C="41.6" D="-93.6"/><PNT A="2" C="41.6" D="-93.59"/><PNT A="2" C="41.61" D="-93.59"/><PNT A="2" C="41.6" D="-93.6"/></LSG></PLN>
  </PFD>
  <TSK A="TSK{n}" B="Task {n}" E="PFD1" G="4"/>
</ISO11783_TaskData>
"#
    );
    zip_of(&[("TASKDATA/TASKDATA.XML".to_owned(), xml.into_bytes())])
}

impl Seed {
    /// The seed of one provider's simulator: the standard seed, with the machine files that provider really
    /// delivers (`docs/PROVIDERS.md`). John Deere lists its displays' native files (which furrow keeps as
    /// unsupported) and one ISOXML export from an ISO display; its convertible data comes as field operations'
    /// shapefile exports. Climate FieldView and Panorama deliver Precision Planting 20|20 files (unsupported);
    /// Ag Leader SMS shapefile exports and INTEGRA display data (unsupported); Raven Slingshot each job's
    /// shapefile export (what `format=shp` answers). The others deliver ISOXML.
    pub fn for_provider(kind: furrow_credentials::Provider) -> Self {
        use furrow_credentials::Provider as P;
        let seed = Seed::standard();
        let Ok(mut files) = seed.files.write() else {
            return seed;
        };
        let own = |list: &[(&'static str, Vec<u8>)], first_id: usize| -> Vec<SeedFile> {
            list.iter()
                .enumerate()
                .map(|(i, (name, bytes))| {
                    SeedFile::new(
                        format!("mf-{}", first_id + i),
                        (*name).to_owned(),
                        "4201",
                        FIRST_FILE + 86_400 * i as i64,
                        bytes.clone(),
                    )
                })
                .collect()
        };
        match kind {
            P::JohnDeere => {
                files.retain(|f| f.name == "AFE.zip" || f.organization_id != "4201");
                for (i, (name, bytes)) in JOHN_DEERE_DISPLAY_ZIPS.iter().enumerate() {
                    files.push(SeedFile::new(
                        format!("mf-{}", 3000 + i),
                        (*name).to_owned(),
                        "4201",
                        FIRST_FILE + 86_400 * (10 + i as i64),
                        bytes.to_vec(),
                    ));
                }
            }
            // Providers without organizations serve the first organization's files only.
            P::ClimateFieldView => *files = own(climate_files(), 1100),
            P::Panorama => *files = own(panorama_files(), 1200),
            P::AgLeader => *files = own(ag_leader_files(), 1300),
            P::RavenSlingshot => *files = own(slingshot_files(), 1400),
            _ => {}
        }
        drop(files);
        seed
    }

    /// The standard seed: three organizations (the third not connected), six fields with boundaries (one
    /// with a hole, one of two polygons, one around the corpus planting log), and the corpus zips as machine files of the first organization.
    pub fn standard() -> Self {
        let org = |id: &str, name: &str, connected| SeedOrganization {
            id: id.into(),
            name: name.into(),
            connected,
        };
        let organizations = vec![
            org("4201", "Prairie Farms", true),
            org("4202", "Hillside Growers", true),
            org("4203", "Unconnected Co", false),
        ];
        let field = |id: &str, name: &str, org: &str, polys: Vec<Vec<Vec<[f64; 2]>>>| SeedField {
            id: id.into(),
            name: name.into(),
            organization_id: org.into(),
            farm_id: format!("farm-{org}"),
            grower_id: format!("grower-{org}"),
            boundary: MultiPolygon::new(polys),
        };
        let fields = vec![
            field(
                "f-101",
                "North 40",
                "4201",
                vec![vec![square(-93.62, 41.60, 0.01)]],
            ),
            field(
                "f-102",
                "Creek Bottom",
                "4201",
                vec![vec![
                    square(-93.60, 41.60, 0.02),
                    square(-93.595, 41.605, 0.005),
                ]],
            ),
            field(
                "f-103",
                "Split Quarter",
                "4201",
                vec![
                    vec![square(-93.55, 41.60, 0.004)],
                    vec![square(-93.54, 41.60, 0.004)],
                ],
            ),
            // Covers the corpus planting log AFE.zip (TSK4, near Osnabrück) served as a machine file, so
            // syncs end in field operations.
            field(
                "f-104",
                "Hof Esch",
                "4201",
                vec![vec![vec![
                    [8.0290, 52.3588],
                    [8.0356, 52.3588],
                    [8.0356, 52.3602],
                    [8.0290, 52.3602],
                    [8.0290, 52.3588],
                ]]],
            ),
            // Around John Deere's sample exports (Merriweather Farms, JT-01): the John Deere simulator's field
            // operations are on it, so its shapefile exports end in field operations.
            field(
                "f-105",
                "JT-01",
                "4201",
                vec![vec![vec![
                    [-93.1552, 41.6660],
                    [-93.1500, 41.6660],
                    [-93.1500, 41.6697],
                    [-93.1552, 41.6697],
                    [-93.1552, 41.6660],
                ]]],
            ),
            field(
                "f-201",
                "Home Place",
                "4202",
                vec![vec![square(-96.70, 40.80, 0.012)]],
            ),
            field(
                "f-301",
                "Far Side",
                "4203",
                vec![vec![square(-97.00, 39.00, 0.01)]],
            ),
        ];
        let blobs: Vec<(String, Vec<u8>)> = SAMPLE_ZIPS
            .iter()
            .map(|(name, bytes)| ((*name).to_owned(), bytes.to_vec()))
            .collect();
        let mut files: Vec<SeedFile> = blobs
            .into_iter()
            .enumerate()
            .map(|(i, (name, bytes))| {
                SeedFile::new(
                    format!("mf-{}", 1000 + i),
                    name,
                    "4201",
                    FIRST_FILE + 86_400 * i as i64,
                    bytes,
                )
            })
            .collect();
        files.push(SeedFile::new(
            "mf-2000".into(),
            "TotalsTests.zip".into(),
            "4202",
            FIRST_FILE,
            HILLSIDE_ZIP.to_vec(),
        ));
        let equipment = vec![
            SeedEquipment {
                id: "pivot-1".into(),
                name: "North pivot".into(),
                organization_id: "4201".into(),
                kind: "pivot".into(),
                length_m: 402.0,
                location: [-93.615, 41.605],
            },
            SeedEquipment {
                id: "pivot-2".into(),
                name: "Creek pivot".into(),
                organization_id: "4201".into(),
                kind: "pivot".into(),
                length_m: 280.5,
                location: [-93.59, 41.61],
            },
        ];
        let irrigation = (0..5)
            .map(|i| SeedIrrigation {
                id: format!("irr-{}", 100 + i),
                equipment_id: if i % 2 == 0 { "pivot-1" } else { "pivot-2" }.into(),
                start: FIRST_FILE + 86_400 * i,
                end: FIRST_FILE + 86_400 * i + 6 * 3600,
                depth_mm: 12.5 + i as f64,
            })
            .collect();
        let imagery = fields
            .iter()
            .filter(|f| f.organization_id == "4201")
            .flat_map(|f| {
                ["NDVI", "RGB", "STAND_COUNT"]
                    .into_iter()
                    .enumerate()
                    .map(|(i, kind)| SeedImagery {
                        id: format!("img-{}-{}", f.id, kind.to_lowercase()),
                        name: format!("{} {kind}", f.name),
                        organization_id: f.organization_id.clone(),
                        field_id: f.id.clone(),
                        kind: kind.into(),
                        captured: FIRST_FILE + 3600 * i as i64,
                    })
            })
            .collect();
        Seed {
            organizations,
            fields,
            equipment,
            irrigation,
            imagery,
            files: RwLock::new(files),
        }
    }

    /// All machine files.
    pub fn files(&self) -> Vec<SeedFile> {
        self.files.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// Keeps only the machine files for which `keep` is true (e.g. one small file for load tests).
    pub fn retain_files(&self, keep: impl Fn(&SeedFile) -> bool) {
        if let Ok(mut files) = self.files.write() {
            files.retain(|f| keep(f));
        }
    }

    /// Adds `n` generated ISOXML zips to organization `org` (for pagination tests); returns their ids.
    pub fn add_generated_files(&self, org: &str, n: usize) -> Vec<String> {
        let Ok(mut files) = self.files.write() else {
            return Vec::new();
        };
        let start = files.len();
        (0..n)
            .map(|i| {
                let k = start + i;
                let f = SeedFile::new(
                    format!("mf-{}", 5000 + k),
                    format!("generated-{k}.zip"),
                    org,
                    FIRST_FILE + 86_400 * (30 + k as i64),
                    generated_taskdata(k),
                );
                let id = f.id.clone();
                files.push(f);
                id
            })
            .collect()
    }

    /// One file by id.
    pub fn file(&self, id: &str) -> Option<SeedFile> {
        self.files().into_iter().find(|f| f.id == id)
    }

    /// Files of an organization created at or after `since` (Unix seconds), oldest first.
    pub fn files_of(&self, org: &str, since: Option<i64>) -> Vec<SeedFile> {
        let mut v: Vec<_> = self
            .files()
            .into_iter()
            .filter(|f| f.organization_id == org && since.is_none_or(|s| f.created >= s))
            .collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        v
    }

    /// A mark of the current file set: files added later are the changes after it (John Deere's
    /// `x-deere-signature`).
    pub fn change_mark(&self) -> usize {
        self.files.read().map(|f| f.len()).unwrap_or_default()
    }

    /// Files of an organization added after `mark` ([`Seed::change_mark`]) and created at or after `since`.
    pub fn files_changed_since(&self, org: &str, mark: usize, since: Option<i64>) -> Vec<SeedFile> {
        let files = self.files();
        let mut v: Vec<_> = files
            .get(mark..)
            .unwrap_or_default()
            .iter()
            .filter(|f| f.organization_id == org && since.is_none_or(|s| f.created >= s))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        v
    }

    /// Equipment of an organization.
    pub fn equipment_of(&self, org: &str) -> Vec<SeedEquipment> {
        self.equipment
            .iter()
            .filter(|e| e.organization_id == org)
            .cloned()
            .collect()
    }

    /// As-applied irrigation of one piece of equipment starting at or after `since`.
    pub fn irrigation_of(&self, equipment_id: &str, since: Option<i64>) -> Vec<SeedIrrigation> {
        self.irrigation
            .iter()
            .filter(|i| i.equipment_id == equipment_id && since.is_none_or(|s| i.start >= s))
            .cloned()
            .collect()
    }

    /// Imagery layers of an organization.
    pub fn imagery_of(&self, org: &str) -> Vec<SeedImagery> {
        self.imagery
            .iter()
            .filter(|i| i.organization_id == org)
            .cloned()
            .collect()
    }

    /// Fields of an organization.
    pub fn fields_of(&self, org: &str) -> Vec<SeedField> {
        self.fields
            .iter()
            .filter(|f| f.organization_id == org)
            .cloned()
            .collect()
    }

    /// Whether the organization is connected.
    pub fn is_connected(&self, org: &str) -> bool {
        self.organizations
            .iter()
            .any(|o| o.id == org && o.connected)
    }
}
