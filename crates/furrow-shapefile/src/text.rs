//! Parsing of DBF cell text: numbers and times.

/// Powers of ten that are exact in an f64 (Clinger's fast path).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The result of parsing a numeric cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// A number.
    Value(f64),
    /// Blank, or `*` (dBase's overflow marker): a missing value, not an error.
    Missing,
    /// Text that is not a number.
    Invalid,
}

/// Parses a DBF `N`/`F` cell (ASCII, padded with spaces or NULs).
///
/// Decimal text with at most 15 significant digits and no exponent (what machine-data exports
/// write) takes a fast path that is exactly rounded (mantissa < 2^53 divided by an exact power of
/// ten); anything else goes through the standard library's parser.
#[inline(always)]
pub(crate) fn parse_number(cell: &[u8]) -> Num {
    let cell = trim(cell);
    let Some(&first) = cell.first() else {
        return Num::Missing;
    };
    if first == b'*' {
        return Num::Missing;
    }
    let (negative, digits) = match first {
        b'-' => (true, &cell[1..]),
        b'+' => (false, &cell[1..]),
        _ => (false, cell),
    };
    let n = digits.len();
    let mut i = 0;
    let mut mantissa: u64 = 0;
    while i < n && digits[i].is_ascii_digit() {
        mantissa = mantissa
            .wrapping_mul(10)
            .wrapping_add(u64::from(digits[i] - b'0'));
        i += 1;
    }
    let int_digits = i;
    let mut scale = 0;
    if i < n && digits[i] == b'.' {
        i += 1;
        let start = i;
        // Eight digits at a time (John Deere writes 8 decimals).
        while i + 8 <= n {
            let mut chunk = [0u8; 8];
            chunk.copy_from_slice(&digits[i..i + 8]);
            let chunk = u64::from_le_bytes(chunk);
            if !all_digits(chunk) {
                break;
            }
            mantissa = mantissa
                .wrapping_mul(100_000_000)
                .wrapping_add(u64::from(parse8(chunk)));
            i += 8;
        }
        while i < n && digits[i].is_ascii_digit() {
            mantissa = mantissa
                .wrapping_mul(10)
                .wrapping_add(u64::from(digits[i] - b'0'));
            i += 1;
        }
        scale = i - start;
    }
    let count = int_digits + scale;
    if i == n && count > 0 && count <= 15 && scale < POW10.len() {
        // count ≤ 15 keeps the mantissa below 2^53, so the conversion is exact.
        // Below 2^53, so the signed conversion (one instruction) is exact.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
        let v = mantissa as i64 as f64 / POW10[scale];
        return Num::Value(if negative { -v } else { v });
    }
    slow_number(cell)
}

/// True when all eight bytes are ASCII digits.
#[inline]
fn all_digits(chunk: u64) -> bool {
    (chunk & 0xF0F0_F0F0_F0F0_F0F0)
        | (((chunk.wrapping_add(0x0606_0606_0606_0606)) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
        == 0x3333_3333_3333_3333
}

/// Eight ASCII digits (first in the lowest byte) to their value (the SWAR method of simdjson).
#[inline]
fn parse8(chunk: u64) -> u32 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let v = chunk.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v =
        ((v & MASK).wrapping_mul(MUL1)).wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2)) >> 32;
    // At most 99,999,999: fits.
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cold]
fn slow_number(cell: &[u8]) -> Num {
    let Ok(s) = std::str::from_utf8(cell) else {
        return Num::Invalid;
    };
    if let Ok(v) = s.parse::<f64>() {
        if v.is_finite() {
            return Num::Value(v);
        }
        return Num::Invalid;
    }
    // A decimal comma (some European exports).
    if s.bytes().filter(|&b| b == b',').count() == 1 && !s.contains('.') {
        if let Ok(v) = s.replace(',', ".").parse::<f64>() {
            if v.is_finite() {
                return Num::Value(v);
            }
        }
    }
    if s.bytes().all(|b| b == b'*' || b == b'.' || b == b'-') {
        return Num::Missing;
    }
    Num::Invalid
}

/// Trims ASCII spaces and NULs on both ends.
#[inline]
pub(crate) fn trim(cell: &[u8]) -> &[u8] {
    let mut start = 0;
    let mut end = cell.len();
    // Numbers are right-aligned in wide cells: skip the padding eight bytes at a time.
    while start + 8 <= end {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&cell[start..start + 8]);
        // Zero bytes where there are spaces; the lowest set bit is the first other byte.
        let x = u64::from_le_bytes(chunk) ^ 0x2020_2020_2020_2020;
        if x != 0 {
            start += (x.trailing_zeros() / 8) as usize;
            break;
        }
        start += 8;
    }
    while start < end && (cell[start] == b' ' || cell[start] == 0) {
        start += 1;
    }
    while end > start && (cell[end - 1] == b' ' || cell[end - 1] == 0) {
        end -= 1;
    }
    &cell[start..end]
}

/// Trims ASCII spaces and NULs at the end only (DBF text is left aligned).
#[inline]
pub(crate) fn trim_end(cell: &[u8]) -> &[u8] {
    let mut end = cell.len();
    while end > 0 && (cell[end - 1] == b' ' || cell[end - 1] == 0) {
        end -= 1;
    }
    &cell[..end]
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

const MS_PER_DAY: i64 = 86_400_000;

/// What a parsed time value says about its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    /// It carried `Z` or an offset: the value is UTC.
    Utc,
    /// A date and time without zone.
    Local,
    /// A date without time of day.
    Date,
    /// A time of day without date (milliseconds since midnight).
    TimeOfDay,
}

/// Parses a DBF `D` cell (`YYYYMMDD`) to milliseconds at midnight.
pub(crate) fn parse_dbf_date(cell: &[u8]) -> Option<i64> {
    let cell = trim(cell);
    if cell.len() != 8 || !cell.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = digits(&cell[0..4])?;
    let month = digits(&cell[4..6])?;
    let day = digits(&cell[6..8])?;
    days_from_civil(i64::from(year), month, day).map(|d| d * MS_PER_DAY)
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

/// Parses a time cell in one of the forms machine-data exports write:
///
/// - ISO 8601: `2016-09-19T16:45:10.000Z`, `2016-09-19 16:45:10`, `2016-09-19T16:45:10+02:00`,
///   `2016-09-19` (date only);
/// - US display form: `9/19/2016 4:45:10 PM`, `9/19/2016 16:45:10`, `9/19/2016`;
/// - time of day only: `16:45:10`, `4:45:10 PM`.
///
/// Returns milliseconds (since the epoch, or since midnight for [`Clock::TimeOfDay`]) and the clock.
pub(crate) fn parse_time(cell: &[u8]) -> Option<(i64, Clock)> {
    parse_time_with(cell, &mut DayCache::default())
}

/// The last date text parsed and its day number: consecutive records share their date.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DayCache {
    key: [u8; 10],
    len: usize,
    days: i64,
}

impl DayCache {
    #[inline]
    fn days(&mut self, text: &[u8], parse: impl FnOnce() -> Option<i64>) -> Option<i64> {
        if self.len > 0 && self.len == text.len() && self.key[..self.len] == *text {
            return Some(self.days);
        }
        let days = parse()?;
        if text.len() <= self.key.len() {
            self.key[..text.len()].copy_from_slice(text);
            self.len = text.len();
            self.days = days;
        }
        Some(days)
    }
}

/// [`parse_time`] with a cache of the last date.
pub(crate) fn parse_time_with(cell: &[u8], cache: &mut DayCache) -> Option<(i64, Clock)> {
    let s = trim(cell);
    if s.is_empty() {
        return None;
    }
    if s.len() >= 10 && s[4] == b'-' && s[7] == b'-' {
        return parse_iso(s, cache);
    }
    if s.len() == 8 && s.iter().all(u8::is_ascii_digit) {
        return parse_dbf_date(s).map(|ms| (ms, Clock::Date));
    }
    if s.contains(&b'/') {
        return parse_us(s, cache);
    }
    if s.contains(&b':') {
        let (ms, rest) = parse_clock(s)?;
        if !trim(rest).is_empty() {
            return None;
        }
        return Some((ms, Clock::TimeOfDay));
    }
    None
}

fn parse_iso(s: &[u8], cache: &mut DayCache) -> Option<(i64, Clock)> {
    let days = cache.days(&s[0..10], || {
        let year = digits(&s[0..4])?;
        let month = digits(&s[5..7])?;
        let day = digits(&s[8..10])?;
        days_from_civil(i64::from(year), month, day)
    })?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some((days * MS_PER_DAY, Clock::Date));
    }
    if rest[0] != b'T' && rest[0] != b' ' && rest[0] != b't' {
        return None;
    }
    let rest = &rest[1..];
    let (hh, mm, ss, ms, rest) = parse_hms(rest)?;
    let local = days * MS_PER_DAY + time_ms(hh, mm, ss, ms)?;
    let rest = trim(rest);
    match rest {
        [] => Some((local, Clock::Local)),
        [b'Z' | b'z'] => Some((local, Clock::Utc)),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (oh, om) = match tail {
                [a, b] => (digits(&[*a, *b])?, 0),
                [a, b, b':', c, d] | [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                _ => return None,
            };
            if oh > 14 || om > 59 {
                return None;
            }
            let offset = (i64::from(oh) * 60 + i64::from(om)) * 60_000;
            let utc = if *sign == b'+' {
                local - offset
            } else {
                local + offset
            };
            Some((utc, Clock::Utc))
        }
        _ => None,
    }
}

/// `M/D/YYYY[ h:mm[:ss[.fff]][ AM|PM]]`.
fn parse_us(s: &[u8], cache: &mut DayCache) -> Option<(i64, Clock)> {
    let mut parts = s.splitn(2, |&b| b == b' ');
    let date = parts.next()?;
    let days = cache.days(date, || {
        let mut d = date.split(|&b| b == b'/');
        let month = digits(d.next()?)?;
        let day = digits(d.next()?)?;
        let year_s = d.next()?;
        if d.next().is_some() || year_s.len() != 4 {
            return None;
        }
        let year = digits(year_s)?;
        days_from_civil(i64::from(year), month, day)
    })?;
    match parts.next().map(trim) {
        None | Some([]) => Some((days * MS_PER_DAY, Clock::Date)),
        Some(clock) => {
            let (ms, rest) = parse_clock(clock)?;
            if !trim(rest).is_empty() {
                return None;
            }
            Some((days * MS_PER_DAY + ms, Clock::Local))
        }
    }
}

/// `h:mm[:ss[.fff]][ AM|PM]` → milliseconds since midnight and the rest.
fn parse_clock(s: &[u8]) -> Option<(i64, &[u8])> {
    let (mut hh, mm, ss, ms, rest) = parse_hms(s)?;
    let rest = trim(rest);
    let (meridiem, rest) = match rest {
        [a, b, tail @ ..]
            if b.eq_ignore_ascii_case(&b'M')
                && (a.eq_ignore_ascii_case(&b'A') || a.eq_ignore_ascii_case(&b'P')) =>
        {
            (Some(a.eq_ignore_ascii_case(&b'P')), tail)
        }
        _ => (None, rest),
    };
    if let Some(pm) = meridiem {
        if hh == 0 || hh > 12 {
            return None;
        }
        hh %= 12;
        if pm {
            hh += 12;
        }
    }
    Some((time_ms(hh, mm, ss, ms)?, rest))
}

/// `hh:mm[:ss[.fraction]]`, one or two digits for the hour.
fn parse_hms(s: &[u8]) -> Option<(u32, u32, u32, u32, &[u8])> {
    let colon = s.iter().position(|&b| b == b':')?;
    if colon == 0 || colon > 2 {
        return None;
    }
    let hh = digits(&s[..colon])?;
    let s = &s[colon + 1..];
    if s.len() < 2 {
        return None;
    }
    let mm = digits(&s[..2])?;
    let mut s = &s[2..];
    let mut ss = 0;
    let mut ms = 0;
    if let [b':', a, b, tail @ ..] = s {
        ss = digits(&[*a, *b])?;
        s = tail;
        if let [b'.' | b',', tail @ ..] = s {
            let n = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let frac = &tail[..n];
            // Milliseconds: the first three digits, truncated (like PROJ and pandas do not round).
            let mut v = 0u32;
            for i in 0..3 {
                v = v * 10 + frac.get(i).map_or(0, |&b| u32::from(b - b'0'));
            }
            ms = v;
            s = &tail[n..];
        }
    }
    Some((hh, mm, ss, ms, s))
}

fn time_ms(hh: u32, mm: u32, ss: u32, ms: u32) -> Option<i64> {
    // 60 seconds allows a leap second as written.
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(((i64::from(hh) * 60 + i64::from(mm)) * 60 + i64::from(ss)) * 1000 + i64::from(ms))
}
