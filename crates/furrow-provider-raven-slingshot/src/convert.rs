//! Wire types (the Slingshot index and status, in XML — the API's default [C] — or JSON) and their conversion.

use furrow_model::MachineFileDescriptor;
use quick_xml::events::Event;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
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

/// An XML element: its local name, its text and its child elements.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    fn text_of(&self, name: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.text.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        self.text_of(name)
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("true"))
    }
}

/// Parses an XML document into its root element (namespaces dropped: Slingshot's names are unique).
pub(crate) fn parse_xml(bytes: &[u8]) -> Result<Node, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let name_of =
        |n: quick_xml::name::LocalName<'_>| String::from_utf8_lossy(n.as_ref()).into_owned();
    let mut stack: Vec<Node> = Vec::new();
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("XML not well formed: {e}")),
            Ok(Event::Start(start)) => stack.push(Node {
                name: name_of(start.local_name()),
                ..Node::default()
            }),
            Ok(Event::Empty(start)) => {
                let node = Node {
                    name: name_of(start.local_name()),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.unescape().map_err(|e| format!("bad XML text: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Ok(Event::CData(c)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            Ok(Event::End(_)) => {
                let Some(node) = stack.pop() else {
                    return Err("unmatched end tag".into());
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Ok(Event::Eof) => return Err("no root element".into()),
            Ok(_) => {}
        }
    }
}

impl Index {
    /// `<SlingshotIndex><IsNextPage>…</IsNextPage><JobData><ID/><Name/>…</JobData>…</SlingshotIndex>`.
    pub(crate) fn from_xml(bytes: &[u8]) -> Result<Self, String> {
        let root = parse_xml(bytes)?;
        if root.name != "SlingshotIndex" {
            return Err(format!("expected SlingshotIndex, got {}", root.name));
        }
        let job_data = root
            .children
            .iter()
            .filter(|c| c.name == "JobData")
            .map(|j| {
                Ok(JobData {
                    id: j
                        .text_of("ID")
                        .filter(|t| !t.is_empty())
                        .ok_or("JobData without ID")?
                        .to_owned(),
                    name: j.text_of("Name").unwrap_or_default().to_owned(),
                    create_date: j.text_of("CreateDate").map(str::to_owned),
                    size: j.text_of("Size").and_then(|s| s.trim().parse().ok()),
                })
            })
            .collect::<Result<_, &str>>()?;
        Ok(Index {
            is_next_page: root.flag("IsNextPage"),
            job_data,
        })
    }
}

impl Status {
    /// `<SlingshotResponse><Status>MORE_TIME_NEEDED</Status><ErrorInfo>00:00:30</ErrorInfo></SlingshotResponse>`.
    pub(crate) fn from_xml(bytes: &[u8]) -> Result<Self, String> {
        let root = parse_xml(bytes)?;
        let status = root
            .text_of("Status")
            .ok_or_else(|| format!("{} without Status", root.name))?;
        Ok(Status {
            status: status.trim().to_owned(),
            error_info: root.text_of("ErrorInfo").map(|t| t.trim().to_owned()),
        })
    }
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
