//! Grouping machine files into field operations, by Leaf's rules and configuration.
//!
//! A file contributes to an operation of each field it touches (above `fieldsAttachIntersection`), keyed by field,
//! operation type and crop (and provider and till type when configured). Files whose time spans come within the
//! merge window of each other (`operationsMergeRange`, 21 days for harvest) chain into one operation, measured
//! end to start in UTC. Grouping is the connected components of that relation, so the result does not depend on
//! the order files arrive in, and adding a file twice changes nothing.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The configuration keys the grouping uses (Leaf's defaults).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupingConfig {
    /// Days between files of one operation (non-harvest).
    pub operations_merge_range: f64,
    /// Days between files of one harvest operation.
    pub operations_merge_range_harvested: f64,
    /// One operation per field the data touches.
    pub split_operations_by_field: bool,
    /// Separate operations per provider.
    pub split_operations_by_provider: bool,
    /// Separate operations per till type.
    pub split_operations_by_till_type: bool,
    /// Percent of either the field or the file's coverage the intersection must reach.
    pub fields_attach_intersection: f64,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        Self {
            operations_merge_range: 5.0,
            operations_merge_range_harvested: 21.0,
            split_operations_by_field: true,
            split_operations_by_provider: true,
            split_operations_by_till_type: false,
            fields_attach_intersection: 0.01,
        }
    }
}

/// How much of a field a file covered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldTouch {
    /// The field id.
    pub field_id: String,
    /// Covered area inside the field, m².
    pub intersection_m2: f64,
    /// The field's area, m².
    pub field_area_m2: f64,
}

/// What the grouping needs to know of a processed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFacts {
    /// The file id.
    pub file_id: String,
    /// Provider name (`JohnDeere`, `CLAAS`, `Leaf` for uploads).
    pub provider: String,
    /// `planted`, `applied`, `harvested` or `tillage`.
    pub operation_type: String,
    /// Crop, when known.
    pub crop: Option<String>,
    /// Till type, when known.
    pub till_type: Option<String>,
    /// First point, microseconds since the epoch (UTC).
    pub start: i64,
    /// Last point, microseconds since the epoch (UTC).
    pub end: i64,
    /// The file's whole covered area, m².
    pub covered_m2: f64,
    /// Fields it touched.
    pub fields: Vec<FieldTouch>,
}

/// A field operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Deterministic id (from the key and the smallest file id).
    pub id: String,
    /// The operation type.
    #[serde(rename = "type")]
    pub operation_type: String,
    /// The field (None when not split by field).
    pub field_id: Option<String>,
    /// The crop.
    pub crop: Option<String>,
    /// Providers of its files.
    pub providers: BTreeSet<String>,
    /// The till type (when split by it).
    pub till_type: Option<String>,
    /// Earliest start of its files (µs, UTC).
    pub start_time: i64,
    /// Latest end of its files (µs, UTC).
    pub end_time: i64,
    /// Its files, sorted.
    pub files: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    operation_type: String,
    field: Option<String>,
    crop: Option<String>,
    provider: Option<String>,
    till_type: Option<String>,
}

#[derive(Debug, Clone)]
struct Member {
    key: Key,
    file: String,
    provider: String,
    start: i64,
    end: i64,
}

/// Groups files into operations; feed it files in any order with [`add`](Self::add).
#[derive(Debug, Clone, Default)]
pub struct OperationGrouper {
    config: GroupingConfig,
    members: Vec<Member>,
}

const DAY_MICROS: f64 = 86_400_000_000.0;

impl OperationGrouper {
    /// A grouper with a configuration.
    pub fn new(config: GroupingConfig) -> Self {
        Self {
            config,
            members: Vec::new(),
        }
    }

    /// Whether a file's intersection with a field passes `fieldsAttachIntersection` (either ratio).
    pub fn attaches(&self, file: &FileFacts, touch: &FieldTouch) -> bool {
        let t = self.config.fields_attach_intersection / 100.0;
        let of_field = if touch.field_area_m2 > 0.0 {
            touch.intersection_m2 / touch.field_area_m2
        } else {
            0.0
        };
        let of_file = if file.covered_m2 > 0.0 {
            touch.intersection_m2 / file.covered_m2
        } else {
            0.0
        };
        touch.intersection_m2 > 0.0 && (of_field >= t || of_file >= t)
    }

    /// Adds a file (again: no change) and returns the operations it now belongs to.
    pub fn add(&mut self, file: &FileFacts) -> Vec<Operation> {
        if !self.members.iter().any(|m| m.file == file.file_id) {
            let c = &self.config;
            let fields: Vec<Option<String>> = if c.split_operations_by_field {
                file.fields
                    .iter()
                    .filter(|t| self.attaches(file, t))
                    .map(|t| Some(t.field_id.clone()))
                    .collect()
            } else if file.fields.iter().any(|t| self.attaches(file, t)) {
                vec![None]
            } else {
                Vec::new()
            };
            for field in fields {
                self.members.push(Member {
                    key: Key {
                        operation_type: file.operation_type.clone(),
                        field,
                        crop: file.crop.clone(),
                        provider: c
                            .split_operations_by_provider
                            .then(|| file.provider.clone()),
                        till_type: if c.split_operations_by_till_type {
                            file.till_type.clone()
                        } else {
                            None
                        },
                    },
                    file: file.file_id.clone(),
                    provider: file.provider.clone(),
                    start: file.start,
                    end: file.end,
                });
            }
        }
        self.operations()
            .into_iter()
            .filter(|o| o.files.contains(&file.file_id))
            .collect()
    }

    /// Every operation, sorted by start time then id.
    pub fn operations(&self) -> Vec<Operation> {
        let mut order: Vec<usize> = (0..self.members.len()).collect();
        order.sort_by(|&a, &b| {
            let (ma, mb) = (&self.members[a], &self.members[b]);
            (&ma.key, ma.start, ma.end, &ma.file).cmp(&(&mb.key, mb.start, mb.end, &mb.file))
        });
        let mut ops: Vec<Operation> = Vec::new();
        let mut current: Option<(Key, i64)> = None; // key and the chain's latest end
        for i in order {
            let m = &self.members[i];
            let window = if m.key.operation_type == "harvested" {
                self.config.operations_merge_range_harvested
            } else {
                self.config.operations_merge_range
            } * DAY_MICROS;
            let chained = matches!(&current, Some((k, end)) if *k == m.key && (m.start as f64) <= *end as f64 + window);
            if chained && let Some(op) = ops.last_mut() {
                op.start_time = op.start_time.min(m.start);
                op.end_time = op.end_time.max(m.end);
                op.files.insert(m.file.clone());
                op.providers.insert(m.provider.clone());
                if let Some((_, end)) = current.as_mut() {
                    *end = (*end).max(m.end);
                }
                continue;
            }
            current = Some((m.key.clone(), m.end));
            ops.push(Operation {
                id: String::new(),
                operation_type: m.key.operation_type.clone(),
                field_id: m.key.field.clone(),
                crop: m.key.crop.clone(),
                providers: BTreeSet::from([m.provider.clone()]),
                till_type: m.key.till_type.clone(),
                start_time: m.start,
                end_time: m.end,
                files: BTreeSet::from([m.file.clone()]),
            });
        }
        for op in &mut ops {
            op.id = operation_id(op);
        }
        ops.sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
        ops
    }
}

/// A UUID-shaped id from the operation's key and its smallest file id (FNV-1a 128).
fn operation_id(op: &Operation) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    let text = format!(
        "{}|{:?}|{:?}|{:?}|{}",
        op.operation_type,
        op.field_id,
        op.crop,
        op.till_type,
        op.files.iter().next().map(String::as_str).unwrap_or("")
    );
    for b in text.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    let hex = format!("{h:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
