//! A columnar dBase (`.dbf`) decoder: the header, code pages, and cells decoded column by column
//! from a block of records.

use std::borrow::Cow;
use std::path::Path;

use encoding_rs::Encoding;

use crate::error::{Error, Result, Warning, WarningKind};

/// One column of a `.dbf`, as its header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbfField {
    /// The name as stored (at most 11 bytes; usually cut to 10), decoded and without padding.
    pub name: String,
    /// The dBase type letter: `C` text, `N`/`F` number, `D` date, `L` logical, `I` integer, ...
    pub kind: char,
    /// Width in bytes.
    pub length: u16,
    /// Decimal places (numbers).
    pub decimals: u8,
    /// Byte offset of the cell inside a record (the deletion flag is byte 0).
    pub(crate) offset: usize,
}

/// The parsed header of a `.dbf`.
#[derive(Debug, Clone)]
pub(crate) struct DbfHeader {
    pub(crate) record_count: u32,
    pub(crate) header_len: usize,
    pub(crate) record_len: usize,
    pub(crate) language_driver: u8,
    pub(crate) version: u8,
    pub(crate) fields: Vec<DbfField>,
}

impl DbfHeader {
    /// Parses a header from the file's first bytes (at least 32; the field descriptors follow).
    pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<DbfHeader> {
        let bad = |message: String| Error::Header {
            path: path.to_path_buf(),
            message,
        };
        if bytes.len() < 32 {
            return Err(bad(format!(
                "{} bytes, shorter than a dBase header",
                bytes.len()
            )));
        }
        let version = bytes[0];
        let record_count = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        let record_len = usize::from(u16::from_le_bytes([bytes[10], bytes[11]]));
        let language_driver = bytes[29];
        if header_len < 33 {
            return Err(bad(format!("header length {header_len} is too small")));
        }
        if record_len == 0 {
            return Err(bad("record length 0".into()));
        }
        // dBase 7 uses 48-byte descriptors after a 68-byte header.
        let (start, size) = if version & 0x07 == 4 {
            (68, 48)
        } else {
            (32, 32)
        };
        let mut fields = Vec::new();
        let mut offset = 1usize;
        let mut pos = start;
        while pos + size <= bytes.len().min(header_len) {
            if bytes[pos] == 0x0D {
                break;
            }
            let d = &bytes[pos..pos + size];
            let name_len = if size == 48 { 32 } else { 11 };
            let raw = &d[..name_len];
            let end = raw.iter().position(|&b| b == 0).unwrap_or(name_len);
            let name: String = String::from_utf8_lossy(&raw[..end]).trim().to_string();
            let (kind, length, decimals) = if size == 48 {
                (d[32], d[33], d[34])
            } else {
                (d[11], d[16], d[17])
            };
            // Character fields wider than 255 bytes keep the high byte in the decimals slot (Clipper, FoxPro).
            let length_full = if kind == b'C' && size == 32 && decimals > 0 {
                usize::from(length) + 256 * usize::from(decimals)
            } else {
                usize::from(length)
            };
            fields.push(DbfField {
                name,
                kind: char::from(kind).to_ascii_uppercase(),
                length: u16::try_from(length_full).unwrap_or(u16::MAX),
                decimals: if kind == b'C' { 0 } else { decimals },
                offset,
            });
            offset += length_full;
            pos += size;
        }
        if fields.is_empty() && record_len > 1 {
            return Err(bad("no field descriptors".into()));
        }
        if offset > record_len {
            return Err(bad(format!(
                "fields take {offset} bytes but a record is {record_len}"
            )));
        }
        Ok(DbfHeader {
            record_count,
            header_len,
            record_len,
            language_driver,
            version,
            fields,
        })
    }

    /// True for Visual FoxPro files (where `B` is a double).
    pub(crate) fn is_visual_foxpro(&self) -> bool {
        matches!(self.version, 0x30..=0x32)
    }
}

/// The text encoding of a `.dbf` and where it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodePage {
    pub(crate) encoding: &'static Encoding,
}

impl CodePage {
    /// From the `.cpg` text if any, else the language-driver byte, else Windows-1252.
    pub(crate) fn resolve(
        cpg: Option<&str>,
        ldid: u8,
        dbf_name: &str,
        warnings: &mut Vec<Warning>,
    ) -> CodePage {
        if let Some(text) = cpg {
            if let Some(encoding) = encoding_from_cpg(text) {
                return CodePage { encoding };
            }
            warnings.push(Warning::new(
                WarningKind::Sidecar,
                format!(
                    "{dbf_name}: code page `{}` of the .cpg is not known; text is read as Windows-1252",
                    text.trim()
                ),
            ));
            return CodePage {
                encoding: encoding_rs::WINDOWS_1252,
            };
        }
        match encoding_from_ldid(ldid) {
            Some(encoding) => CodePage { encoding },
            None => {
                if ldid != 0 {
                    warnings.push(Warning::new(
                        WarningKind::Sidecar,
                        format!(
                            "{dbf_name}: language driver 0x{ldid:02X} names a code page this crate cannot decode; text is read as Windows-1252"
                        ),
                    ));
                }
                CodePage {
                    encoding: encoding_rs::WINDOWS_1252,
                }
            }
        }
    }

    /// Decodes a trimmed cell; never fails (bad bytes become U+FFFD in UTF-8).
    #[inline]
    pub(crate) fn decode<'a>(&self, bytes: &'a [u8]) -> Cow<'a, str> {
        if bytes.is_ascii() {
            // ASCII is the same in every code page this crate picks.
            return Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default());
        }
        self.encoding.decode_without_bom_handling(bytes).0
    }

    /// The encoding's name (WHATWG label).
    pub(crate) fn name(&self) -> &'static str {
        self.encoding.name()
    }
}

fn encoding_from_cpg(text: &str) -> Option<&'static Encoding> {
    let t = text.trim().trim_start_matches('\u{feff}').trim();
    let upper = t.to_ascii_uppercase();
    let by_number = |n: &str| -> Option<&'static Encoding> {
        match n {
            "65001" | "UTF8" => Some(encoding_rs::UTF_8),
            "1250" => Some(encoding_rs::WINDOWS_1250),
            "1251" => Some(encoding_rs::WINDOWS_1251),
            "1252" => Some(encoding_rs::WINDOWS_1252),
            "1253" => Some(encoding_rs::WINDOWS_1253),
            "1254" => Some(encoding_rs::WINDOWS_1254),
            "1255" => Some(encoding_rs::WINDOWS_1255),
            "1256" => Some(encoding_rs::WINDOWS_1256),
            "1257" => Some(encoding_rs::WINDOWS_1257),
            "1258" => Some(encoding_rs::WINDOWS_1258),
            "874" => Some(encoding_rs::WINDOWS_874),
            "932" => Some(encoding_rs::SHIFT_JIS),
            "936" => Some(encoding_rs::GBK),
            "949" => Some(encoding_rs::EUC_KR),
            "950" => Some(encoding_rs::BIG5),
            "866" => Some(encoding_rs::IBM866),
            // ISO-8859-1 is decoded as its superset Windows-1252, as browsers do.
            "88591" | "28591" => Some(encoding_rs::WINDOWS_1252),
            "88592" | "28592" => Some(encoding_rs::ISO_8859_2),
            "88595" | "28595" => Some(encoding_rs::ISO_8859_5),
            "88597" | "28597" => Some(encoding_rs::ISO_8859_7),
            "885915" | "28605" => Some(encoding_rs::ISO_8859_15),
            _ => None,
        }
    };
    let compact: String = upper.chars().filter(char::is_ascii_alphanumeric).collect();
    if let Some(e) = by_number(&compact) {
        return Some(e);
    }
    for prefix in ["CP", "WINDOWS", "ANSI", "ISO", "OEM", "IBM"] {
        if let Some(rest) = compact.strip_prefix(prefix) {
            if let Some(e) = by_number(rest) {
                return Some(e);
            }
        }
    }
    Encoding::for_label(t.as_bytes())
}

/// The dBase language-driver ids (byte 29) of the code pages encoding_rs decodes.
fn encoding_from_ldid(ldid: u8) -> Option<&'static Encoding> {
    Some(match ldid {
        0x03 | 0x57 | 0x58 | 0x59 | 0x1B | 0x1C | 0x1D | 0x1E | 0x1F | 0x14 | 0x15 | 0x10
        | 0x11 | 0x0B | 0x0C | 0x0D | 0x0E | 0x0F => {
            // 0x03, 0x57-0x59: Windows ANSI. The others are DOS 437/850 drivers, which encoding_rs
            // does not decode; their printable ASCII is the same and the rest differs, so they are
            // not listed here.
            if matches!(ldid, 0x03 | 0x57 | 0x58 | 0x59) {
                encoding_rs::WINDOWS_1252
            } else {
                return None;
            }
        }
        0x26 | 0x65 => encoding_rs::IBM866,
        0x4D | 0x7A => encoding_rs::GBK,
        0x4E | 0x79 => encoding_rs::EUC_KR,
        0x4F | 0x78 => encoding_rs::BIG5,
        0x50 | 0x7C => encoding_rs::WINDOWS_874,
        0x7B | 0x13 => encoding_rs::SHIFT_JIS,
        0x7D => encoding_rs::WINDOWS_1255,
        0x7E => encoding_rs::WINDOWS_1256,
        0xC8 => encoding_rs::WINDOWS_1250,
        0xC9 => encoding_rs::WINDOWS_1251,
        0xCA => encoding_rs::WINDOWS_1254,
        0xCB => encoding_rs::WINDOWS_1253,
        0xCC => encoding_rs::WINDOWS_1257,
        _ => return None,
    })
}
