//! Time stamps as ISOXML logs them: a day count since 1980-01-01 and milliseconds since midnight.

use std::fmt;

use serde::{Serialize, Serializer};

/// Days from 1970-01-01 to 1980-01-01, the ISO 11783 epoch.
pub(crate) const DAYS_1970_TO_1980: i64 = 3652;

/// Milliseconds in a day. A time of day at or past it (86,400,000 ms for a leap second, more from
/// terminals that keep counting past midnight) is the next day's time: dates roll forward, never shown as
/// `23:59:60` (docs/ISOXML.md, "Time").
pub(crate) const MILLIS_PER_DAY: u32 = 86_400_000;

/// A date and time without time zone, as stored in a binary time log.
///
/// For the record time this is the terminal's local time; for the GPS fields it is UTC. The crate never
/// converts between the two. [`crate::RecordReader`] rolls a time of day at or past 24 h into the date, so
/// the records it gives have `millis < 86_400_000`; a value built by hand may hold more and reads the same
/// way (the date rolled forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LoggedDateTime {
    /// Days since 1980-01-01.
    pub days: u16,
    /// Milliseconds since midnight (`0..86_400_000` as the reader gives them).
    pub millis: u32,
}

impl LoggedDateTime {
    /// Days since 1980-01-01 and milliseconds of that day, with a time of day at or past 24 h rolled into
    /// the day count.
    fn rolled(self) -> (i64, u32) {
        (
            i64::from(self.days) + i64::from(self.millis / MILLIS_PER_DAY),
            self.millis % MILLIS_PER_DAY,
        )
    }

    /// This value with a time of day at or past 24 h rolled into the date; `None` when the rolled date
    /// does not fit a day count (`u16`).
    pub fn normalized(self) -> Option<LoggedDateTime> {
        let (days, millis) = self.rolled();
        Some(LoggedDateTime {
            days: u16::try_from(days).ok()?,
            millis,
        })
    }

    /// The calendar date `(year, month, day)` (a time of day past 24 h rolls it forward).
    pub fn date(self) -> (i32, u8, u8) {
        civil_from_days(self.rolled().0 + DAYS_1970_TO_1980)
    }

    /// The time of day `(hour, minute, second, millisecond)`; 86,400,000 ms is the next day's `00:00:00`.
    pub fn time_of_day(self) -> (u8, u8, u8, u16) {
        let ms = self.rolled().1;
        let secs = ms / 1000;
        // All values are bounded above, so the narrowing casts cannot truncate.
        (
            (secs / 3600) as u8,
            ((secs / 60) % 60) as u8,
            (secs % 60) as u8,
            (ms % 1000) as u16,
        )
    }

    /// Milliseconds since 1970-01-01T00:00 reading this value as if it were UTC.
    ///
    /// Useful to compute differences; it does not say the value is UTC.
    #[inline]
    pub fn epoch_millis(self) -> i64 {
        (i64::from(self.days) + DAYS_1970_TO_1980) * i64::from(MILLIS_PER_DAY)
            + i64::from(self.millis)
    }
}

impl fmt::Display for LoggedDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = self.date();
        let (h, mi, s, ms) = self.time_of_day();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}")
    }
}

impl Serialize for LoggedDateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Converts days since 1970-01-01 to `(year, month, day)` (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // Inputs here are u16 day counts, so the year fits easily.
    (y as i32, m as u8, d as u8)
}

/// Converts a calendar date to days since 1970-01-01 (inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_1980() {
        let t = LoggedDateTime {
            days: 15_074,
            millis: 53_644_969,
        };
        assert_eq!(t.to_string(), "2021-04-09T14:54:04.969");
        assert_eq!(
            LoggedDateTime { days: 0, millis: 0 }.to_string(),
            "1980-01-01T00:00:00.000"
        );
        assert_eq!(days_from_civil(1980, 1, 1), DAYS_1970_TO_1980);
        for d in [0i64, 59, 60, 365, 10_000, 65_535] {
            let (y, m, dd) = civil_from_days(d + DAYS_1970_TO_1980);
            assert_eq!(days_from_civil(y, m, dd), d + DAYS_1970_TO_1980);
        }
        // 86,400,000 ms is the next day's midnight, everywhere (text, parts, epoch)
        let leap = LoggedDateTime {
            days: 15_074,
            millis: MILLIS_PER_DAY,
        };
        assert_eq!(leap.time_of_day(), (0, 0, 0, 0));
        assert_eq!(leap.to_string(), "2021-04-10T00:00:00.000");
        let next = LoggedDateTime {
            days: 15_075,
            millis: 0,
        };
        assert_eq!(leap.epoch_millis(), next.epoch_millis());
        assert_eq!(leap.normalized(), Some(next));
        // past 24 h: the date rolls by whole days
        let late = LoggedDateTime {
            days: 15_074,
            millis: 2 * MILLIS_PER_DAY + 3_723_004,
        };
        assert_eq!(late.to_string(), "2021-04-11T01:02:03.004");
        assert_eq!(late.date(), (2021, 4, 11));
        assert_eq!(
            LoggedDateTime {
                days: u16::MAX,
                millis: MILLIS_PER_DAY
            }
            .normalized(),
            None
        );
    }
}
