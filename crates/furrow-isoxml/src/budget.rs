//! A process-wide memory budget for reading data sets.
//!
//! `TASKDATA.XML` and its external files are read whole and parsed into an element tree, then into the model;
//! grids and binary point files are read whole too. A small zip can hold hundreds of MiB of XML, and the tree
//! of that XML takes many times its size, so reading is admitted by an estimate made before anything is
//! read: one streaming pass over each XML file counts bytes, elements and attributes (constant memory), and
//! the binary files count by their listed size. A data set whose estimate is over the whole budget is refused
//! with [`Error::MemoryBudget`]; otherwise its estimate is reserved, waiting while other readers of the process
//! hold the budget, and released when the last [`TaskData`](crate::TaskData) of the call is dropped. Time logs
//! stream and are not counted.
//!
//! The budget is [`DEFAULT_MEMORY_BUDGET`] unless a program sets it with [`set_memory_budget`]. A thread that
//! already holds a reservation never waits (it could wait for itself): when the budget is taken it gets
//! [`Error::MemoryBusy`] at once, and so does any reader that waited [`BUSY_WAIT`] in vain; both mean "try
//! again later", never that the input is bad.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::source::FileRef;

/// The budget when a program sets none: 256 MiB of estimated memory for all readers of the process.
pub const DEFAULT_MEMORY_BUDGET: u64 = 256 << 20;

/// Longest wait for a reservation before [`Error::MemoryBusy`].
pub const BUSY_WAIT: Duration = Duration::from_secs(60);

/// Estimated bytes an element costs while it is parsed: its tree node, its share of its parent's child
/// list, and its model struct (measured with a counting allocator in `tests/budget.rs`).
const ELEMENT_COST: u64 = 512;
/// Estimated bytes an attribute costs: its pair in the tree, and its value in the model.
const ATTRIBUTE_COST: u64 = 160;
/// The text is held once, and again when it has to be repaired to UTF-8.
const TEXT_FACTOR: u64 = 2;
/// Grids and binary point files are held as read and again decoded.
const BINARY_FACTOR: u64 = 3;

struct State {
    total: u64,
    used: u64,
    /// Bytes held by each thread that made a reservation.
    holders: HashMap<ThreadId, u64>,
}

struct Budget {
    state: Mutex<State>,
    freed: Condvar,
}

static BUDGET: std::sync::LazyLock<Budget> = std::sync::LazyLock::new(|| Budget {
    state: Mutex::new(State {
        total: DEFAULT_MEMORY_BUDGET,
        used: 0,
        holders: HashMap::new(),
    }),
    freed: Condvar::new(),
});

fn state() -> MutexGuard<'static, State> {
    BUDGET.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets the memory budget of every reader of this process, in bytes (at least 1 MiB). Reservations already
/// made keep their bytes; waiting readers see the new budget at once.
pub fn set_memory_budget(bytes: u64) {
    state().total = bytes.max(1 << 20);
    BUDGET.freed.notify_all();
}

/// The memory budget of this process's readers, in bytes.
pub fn memory_budget() -> u64 {
    state().total
}

/// Bytes reserved at the moment by readers of this process.
pub fn memory_reserved() -> u64 {
    state().used
}

/// Bytes held for data sets still alive; given back when dropped.
pub(crate) struct Reservation {
    bytes: u64,
    thread: ThreadId,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reservation({} bytes)", self.bytes)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut s = state();
        s.used = s.used.saturating_sub(self.bytes);
        if let Some(held) = s.holders.get_mut(&self.thread) {
            *held = held.saturating_sub(self.bytes);
            if *held == 0 {
                s.holders.remove(&self.thread);
            }
        }
        drop(s);
        BUDGET.freed.notify_all();
    }
}

/// Reserves `bytes` for reading `what`: refused when over the whole budget, waits while others hold it.
pub(crate) fn reserve(bytes: u64, what: &str) -> Result<Reservation> {
    let thread = std::thread::current().id();
    let deadline = Instant::now() + BUSY_WAIT;
    let mut s = state();
    loop {
        if bytes > s.total {
            return Err(Error::MemoryBudget {
                what: what.to_owned(),
                needed: bytes,
                budget: s.total,
            });
        }
        if s.used.saturating_add(bytes) <= s.total {
            s.used += bytes;
            *s.holders.entry(thread).or_default() += bytes;
            return Ok(Reservation { bytes, thread });
        }
        let now = Instant::now();
        if s.holders.contains_key(&thread) || now >= deadline {
            return Err(Error::MemoryBusy {
                what: what.to_owned(),
                needed: bytes,
            });
        }
        s = BUDGET
            .freed
            .wait_timeout(s, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// What reading an XML file costs, counted in one streaming pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct XmlCount {
    pub(crate) bytes: u64,
    pub(crate) elements: u64,
    pub(crate) attributes: u64,
}

impl XmlCount {
    /// Estimated peak bytes of reading and parsing the file.
    pub(crate) fn estimate(&self) -> u64 {
        self.bytes
            .saturating_mul(TEXT_FACTOR)
            .saturating_add(self.elements.saturating_mul(ELEMENT_COST))
            .saturating_add(self.attributes.saturating_mul(ATTRIBUTE_COST))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    Text,
    /// Just after `<`.
    Open,
    /// Inside a start tag, outside quotes.
    Tag,
    /// Inside a quoted attribute value.
    Quoted(u8),
    /// Inside `</…>`, `<?…>` or `<!…>`.
    Other,
}

/// Counts `bytes`'s elements (`<name`) and attributes (`=` inside a start tag). A comment, CDATA section or
/// declaration is skipped up to its first `>`; markup after that `>` inside it counts, so the count can only
/// exceed what the parser builds.
pub(crate) fn count_xml(mut reader: impl Read, file: &str) -> Result<XmlCount> {
    let mut count = XmlCount::default();
    let mut scan = Scan::Text;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(count),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(Error::Read {
                    file: file.to_owned(),
                    offset: count.bytes,
                    source,
                });
            }
        };
        count.bytes += n as u64;
        for &b in &buf[..n] {
            scan = match (scan, b) {
                (Scan::Text, b'<') => Scan::Open,
                (Scan::Text, _) => Scan::Text,
                (Scan::Open, b'/' | b'?' | b'!') => Scan::Other,
                (Scan::Open, _) => {
                    count.elements += 1;
                    Scan::Tag
                }
                (Scan::Tag, b'"' | b'\'') => Scan::Quoted(b),
                (Scan::Tag, b'=') => {
                    count.attributes += 1;
                    Scan::Tag
                }
                (Scan::Tag | Scan::Other, b'>') => Scan::Text,
                (Scan::Quoted(q), b) if b == q => Scan::Tag,
                (s, _) => s,
            };
        }
    }
}

/// Estimated peak bytes of reading one data set: every XML file counted, grids and point files by size.
/// Stops counting once the estimate passes `stop_above` (the budget), so a bomb costs a fraction of a pass.
pub(crate) fn estimate_files<'a>(
    files: impl Iterator<Item = &'a FileRef>,
    xml_limit: u64,
    stop_above: u64,
) -> Result<u64> {
    let mut total = 0u64;
    for f in files {
        let upper = f.name().to_ascii_uppercase();
        if upper.ends_with(".XML") {
            if f.size > xml_limit {
                return Err(Error::TooLarge {
                    file: f.name().to_owned(),
                    size: f.size,
                    limit: xml_limit,
                });
            }
            // Count at most one byte over the limit: the reader refuses the file then.
            let reader = f.open()?.take(xml_limit.saturating_add(1));
            let budget_left = stop_above.saturating_sub(total);
            let c = count_xml(StopAbove::new(reader, budget_left), f.name())?;
            total = total.saturating_add(c.estimate());
        } else if upper.ends_with(".BIN") && !upper.starts_with("TLG") {
            total = total.saturating_add(f.size.saturating_mul(BINARY_FACTOR));
        }
        if total > stop_above {
            break;
        }
    }
    Ok(total)
}

/// A reader that ends once `bytes * TEXT_FACTOR` passes `limit`: the text alone is then over the budget.
struct StopAbove<R> {
    inner: R,
    left: u64,
}

impl<R> StopAbove<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            left: (limit / TEXT_FACTOR).saturating_add(1),
        }
    }
}

impl<R: Read> Read for StopAbove<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_elements_and_attributes_and_never_markup_that_is_not_an_element() {
        let xml = br#"<?xml version="1.0"?><!-- a <comment> --><ISO11783_TaskData VersionMajor="4" x='a=b'>
            <TSK A="TSK1" B="x&gt;y"><TLG A="TLG00001"/></TSK></ISO11783_TaskData>"#;
        let c = count_xml(&xml[..], "T").unwrap();
        // Markup inside the comment is skipped up to its first `>`; what follows it would count (overcounting
        // is safe), here nothing does.
        assert_eq!(
            c,
            XmlCount {
                bytes: xml.len() as u64,
                elements: 3,
                attributes: 5,
            }
        );
    }

    #[test]
    fn counts_across_read_boundaries() {
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let Some((&b, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = b;
                self.0 = rest;
                Ok(1)
            }
        }
        let xml = br#"<A a="1" b='2'><B c="<x>"/></A>"#;
        assert_eq!(
            count_xml(OneByte(xml), "T").unwrap(),
            count_xml(&xml[..], "T").unwrap()
        );
        assert_eq!(count_xml(&xml[..], "T").unwrap().elements, 2);
        assert_eq!(count_xml(&xml[..], "T").unwrap().attributes, 3);
    }
}
