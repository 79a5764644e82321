//! A tolerant XML reader producing a plain element tree.
//!
//! ISOXML carries everything in attributes, so text is ignored. Malformed or cut-off input keeps every
//! element read before the fault and reports a warning.

use std::borrow::Cow;

use quick_xml::events::attributes::{AttrError, Attributes};
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

impl Node<'_> {
    /// The element name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The value of an attribute, `None` when absent.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| &**v)
    }

    /// An owned copy, for elements kept as they are.
    pub(crate) fn to_element(&self) -> XmlElement {
        XmlElement {
            name: self.name.to_string(),
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            children: self.children.iter().map(Node::to_element).collect(),
        }
    }
}

/// An element read from XML text: names and values borrow the text unless they had to be unescaped or
/// repaired, so reading a file allocates per element, not per attribute.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) attributes: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub(crate) children: Vec<Node<'a>>,
}

/// The bytes of an XML file as text: borrowed when they are UTF-8 (ISOXML files are), otherwise repaired.
pub(crate) fn text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // `from_utf8` validates much faster than the lossy path; that one only repairs.
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// `part` (a slice quick-xml handed out from `text`) as a slice of `text` itself, so it outlives the event.
fn reborrow<'a>(text: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    text.get(start..start.checked_add(part.len())?)
}

/// Parses `bytes` into its root element. Returns `None` when no element could be read at all.
pub(crate) fn parse<'a>(text: &'a str, file: &str, warnings: &mut Warnings) -> Option<Node<'a>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = quick_xml::Reader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.trim_text(true);
    }
    let mut stack: Vec<Node<'a>> = Vec::new();
    let mut root: Option<Node<'a>> = None;
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
                let element = element_from(text, &start, file, reader.buffer_position(), warnings);
                stack.push(element);
            }
            Event::Empty(start) => {
                if skipped_depth > 0 || stack.len() >= MAX_DEPTH {
                    continue;
                }
                let element = element_from(text, &start, file, reader.buffer_position(), warnings);
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
        let open: Vec<&str> = stack.iter().map(Node::name).collect();
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

fn attach<'a>(
    stack: &mut [Node<'a>],
    root: &mut Option<Node<'a>>,
    element: Node<'a>,
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

fn element_from<'a>(
    text: &'a str,
    start: &BytesStart<'_>,
    file: &str,
    offset: u64,
    warnings: &mut Warnings,
) -> Node<'a> {
    let name_len = start.name().as_ref().len();
    // The slice reader hands out slices of `text`; take them with `text`'s lifetime.
    let Some(content) = reborrow(text, start) else {
        return owned_element(start, file, offset, warnings);
    };
    let name = Cow::Borrowed(content.get(..name_len).unwrap_or(content));
    if let Some(attributes) = plain_attributes(content.get(name_len..).unwrap_or_default()) {
        return Node {
            name,
            attributes,
            children: Vec::new(),
        };
    }
    let mut attributes = Vec::new();
    let mut attrs = Attributes::new(content, name_len);
    attrs.with_checks(false);
    for attr in attrs {
        match attr {
            Ok(attr) => {
                // Both are slices of `content`, hence of `text`: no UTF-8 check needed again.
                let key = match reborrow(text, attr.key.0) {
                    Some(k) => Cow::Borrowed(k),
                    None => Cow::Owned(String::from_utf8_lossy(attr.key.0).into_owned()),
                };
                let raw = reborrow(text, &attr.value);
                let value = match raw {
                    // Nearly every value holds no entity; a byte scan is much cheaper than the unescape call.
                    Some(v) if !v.as_bytes().contains(&b'&') => Cow::Borrowed(v),
                    _ => match raw.map(quick_xml::escape::unescape) {
                        Some(Ok(v)) => v,
                        // A stray `&` is kept as written.
                        Some(Err(_)) => Cow::Borrowed(raw.unwrap_or_default()),
                        None => match attr.unescape_value() {
                            Ok(v) => Cow::Owned(v.into_owned()),
                            Err(_) => Cow::Owned(String::from_utf8_lossy(&attr.value).into_owned()),
                        },
                    },
                };
                attributes.push((key, value));
            }
            Err(err) => {
                malformed_attributes(&err, &name, file, offset, warnings);
                break;
            }
        }
    }
    Node {
        name,
        attributes,
        children: Vec::new(),
    }
}

/// The attributes of `rest` (the tag after its name) when every one has the plain form ISOXML writers use:
/// `name="value"` or `name='value'`, separated by whitespace, no entity in the value. `None` for anything
/// else, which quick-xml's attribute reader then handles (with its rules and warnings).
fn plain_attributes(rest: &str) -> Option<Vec<(Cow<'_, str>, Cow<'_, str>)>> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':');
    let bytes = rest.as_bytes();
    // Most elements have a few attributes: one per `=` is an upper bound without a second pass.
    let mut attributes = Vec::with_capacity(bytes.iter().filter(|&&b| b == b'=').count());
    let mut i = 0;
    loop {
        let start = i + bytes.get(i..)?.iter().take_while(|&&b| is_space(b)).count();
        if start == bytes.len() {
            return Some(attributes);
        }
        if start == i {
            // Attributes must be separated by whitespace.
            return None;
        }
        let eq = start
            + bytes
                .get(start..)?
                .iter()
                .take_while(|&&b| is_name(b))
                .count();
        let quote = *bytes.get(eq + 1)?;
        if eq == start || bytes.get(eq) != Some(&b'=') || !matches!(quote, b'"' | b'\'') {
            return None;
        }
        let open = eq + 2;
        let close = open + bytes.get(open..)?.iter().position(|&b| b == quote)?;
        let value = rest.get(open..close)?;
        if value.as_bytes().contains(&b'&') {
            return None;
        }
        attributes.push((Cow::Borrowed(rest.get(start..eq)?), Cow::Borrowed(value)));
        i = close + 1;
    }
}

fn malformed_attributes(
    err: &AttrError,
    name: &str,
    file: &str,
    offset: u64,
    warnings: &mut Warnings,
) {
    warnings.push(
        Warning::new(
            WarningKind::MalformedXml,
            format!("malformed attributes ({err}); later attributes of this element skipped"),
        )
        .file(file)
        .element(name)
        .offset(offset),
    );
}

/// The same for an event that does not borrow the text (not expected from the slice reader).
fn owned_element<'a>(
    start: &BytesStart<'_>,
    file: &str,
    offset: u64,
    warnings: &mut Warnings,
) -> Node<'a> {
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
                attributes.push((Cow::Owned(key), Cow::Owned(value)));
            }
            Err(err) => {
                malformed_attributes(&err, &name, file, offset, warnings);
                break;
            }
        }
    }
    Node {
        name: Cow::Owned(name),
        attributes,
        children: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
