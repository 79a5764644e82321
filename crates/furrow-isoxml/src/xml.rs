//! A tolerant XML reader producing a plain element tree.
//!
//! ISOXML carries everything in attributes, so text is ignored. Malformed or cut-off input keeps every
//! element read before the fault and reports a warning.

use quick_xml::events::{BytesStart, Event};
use serde::Serialize;

use crate::error::{Warning, WarningKind, Warnings};

/// Deepest element nesting kept; deeper elements are skipped (ISOXML needs fewer than 10 levels).
const MAX_DEPTH: usize = 128;

/// An XML element as read: name, attributes in document order, children.
///
/// Used for elements this crate does not model (proprietary or unknown), so nothing is lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct XmlElement {
    /// Element name, e.g. `TSK` or `P094_Extra`.
    pub name: String,
    /// Attributes `(name, value)` in document order; an empty value is kept as `""`.
    pub attributes: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<XmlElement>,
}

impl XmlElement {
    /// The value of an attribute, `None` when absent.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `bytes` into its root element. Returns `None` when no element could be read at all.
pub(crate) fn parse(bytes: &[u8], file: &str, warnings: &mut Warnings) -> Option<XmlElement> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = quick_xml::Reader::from_reader(bytes);
    {
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.trim_text(true);
    }
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut skipped_depth: usize = 0;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => {
                warnings.push(
                    Warning::new(
                        WarningKind::MalformedXml,
                        format!("XML not well formed ({err}); kept the elements read before it"),
                    )
                    .file(file)
                    .offset(reader.error_position()),
                );
                break;
            }
        };
        match event {
            Event::Start(start) => {
                if skipped_depth > 0 || stack.len() >= MAX_DEPTH {
                    if skipped_depth == 0 {
                        warnings.push(
                            Warning::new(
                                WarningKind::MalformedXml,
                                format!("elements nested deeper than {MAX_DEPTH} levels skipped"),
                            )
                            .file(file)
                            .offset(reader.buffer_position()),
                        );
                    }
                    skipped_depth += 1;
                    continue;
                }
                let element = element_from(&start, file, reader.buffer_position(), warnings);
                stack.push(element);
            }
            Event::Empty(start) => {
                if skipped_depth > 0 || stack.len() >= MAX_DEPTH {
                    continue;
                }
                let element = element_from(&start, file, reader.buffer_position(), warnings);
                attach(&mut stack, &mut root, element, file, warnings);
            }
            Event::End(end) => {
                if skipped_depth > 0 {
                    skipped_depth -= 1;
                    continue;
                }
                let name = end.name();
                let name = name.as_ref();
                // Close up to the matching open element; an unmatched end tag is ignored.
                if let Some(pos) = stack.iter().rposition(|e| e.name.as_bytes() == name) {
                    if pos + 1 != stack.len() {
                        warnings.push(
                            Warning::new(
                                WarningKind::MalformedXml,
                                format!(
                                    "end tag `{}` closes {} unclosed element(s)",
                                    String::from_utf8_lossy(name),
                                    stack.len() - pos - 1
                                ),
                            )
                            .file(file)
                            .offset(reader.buffer_position()),
                        );
                    }
                    while stack.len() > pos {
                        if let Some(element) = stack.pop() {
                            attach(&mut stack, &mut root, element, file, warnings);
                        }
                    }
                } else {
                    warnings.push(
                        Warning::new(
                            WarningKind::MalformedXml,
                            format!(
                                "unmatched end tag `{}` ignored",
                                String::from_utf8_lossy(name)
                            ),
                        )
                        .file(file)
                        .offset(reader.buffer_position()),
                    );
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        let open: Vec<&str> = stack.iter().map(|e| e.name.as_str()).collect();
        warnings.push(
            Warning::new(
                WarningKind::MalformedXml,
                format!(
                    "file ends before closing {}; kept what was read",
                    open.join(" > ")
                ),
            )
            .file(file)
            .offset(reader.buffer_position()),
        );
        while let Some(element) = stack.pop() {
            attach(&mut stack, &mut root, element, file, warnings);
        }
    }
    root
}

fn attach(
    stack: &mut [XmlElement],
    root: &mut Option<XmlElement>,
    element: XmlElement,
    file: &str,
    warnings: &mut Warnings,
) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(element);
    } else if root.is_none() {
        *root = Some(element);
    } else {
        warnings.push(
            Warning::new(
                WarningKind::MalformedXml,
                format!("second root element `{}` ignored", element.name),
            )
            .file(file),
        );
    }
}

fn element_from(
    start: &BytesStart<'_>,
    file: &str,
    offset: u64,
    warnings: &mut Warnings,
) -> XmlElement {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    let mut attrs = start.attributes();
    attrs.with_checks(false);
    for attr in attrs {
        match attr {
            Ok(attr) => {
                let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                let value = match attr.unescape_value() {
                    Ok(v) => v.into_owned(),
                    Err(_) => String::from_utf8_lossy(&attr.value).into_owned(),
                };
                attributes.push((key, value));
            }
            Err(err) => {
                warnings.push(
                    Warning::new(
                        WarningKind::MalformedXml,
                        format!(
                            "malformed attributes ({err}); later attributes of this element skipped"
                        ),
                    )
                    .file(file)
                    .element(name.clone())
                    .offset(offset),
                );
                break;
            }
        }
    }
    XmlElement {
        name,
        attributes,
        children: Vec::new(),
    }
}
