use time::OffsetDateTime;
use time::macros::format_description;

/// Formats a UTC instant as Leaf does: `yyyy-MM-ddTHH:mm:ss.SSSSSSZ` (always six fraction digits).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    // The description is static and every component exists for a UTC OffsetDateTime.
    t.format(&fmt).unwrap_or_default()
}

/// The current time in microseconds since the Unix epoch (how the store keeps instants).
pub fn now_micros() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000) as i64
}

/// Turns microseconds since the Unix epoch back into an instant (clamped to the representable range).
pub fn timestamp_from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_fraction_digits_and_z() {
        let t = timestamp_from_micros(1_682_079_387_997_586);
        assert_eq!(format_timestamp(t), "2023-04-21T12:16:27.997586Z");
        let whole = timestamp_from_micros(1_682_079_387_000_000);
        assert_eq!(format_timestamp(whole), "2023-04-21T12:16:27.000000Z");
    }

    #[test]
    fn micros_round_trip() {
        let m = now_micros();
        let t = timestamp_from_micros(m);
        assert_eq!((t.unix_timestamp_nanos() / 1_000) as i64, m);
    }
}
