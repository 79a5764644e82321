//! Wire types (the JSON form of the Slingshot index) and their conversion.

use furrow_model::MachineFileDescriptor;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Index {
    #[serde(default)]
    pub(crate) is_next_page: bool,
    #[serde(default)]
    pub(crate) job_data: Vec<JobData>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct JobData {
    #[serde(rename = "ID")]
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) create_date: Option<String>,
    pub(crate) size: Option<u64>,
}

/// `<SlingshotResponse><Status>MORE_TIME_NEEDED</Status><ErrorInfo>00:00:30</ErrorInfo>` in JSON form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Status {
    pub(crate) status: String,
    pub(crate) error_info: Option<String>,
}

/// `hh:mm:ss` → seconds.
pub(crate) fn timespan(s: &str) -> Option<u64> {
    let mut total = 0u64;
    for part in s.split(':') {
        total = total * 60 + part.trim().split('.').next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

pub(crate) fn file(j: JobData, org: &str) -> MachineFileDescriptor {
    MachineFileDescriptor {
        id: j.id,
        name: j.name,
        organization_id: org.to_owned(),
        created_time: j.create_date,
        size: j.size,
        format: Some("JobData".to_owned()),
        download_ref: None,
    }
}
