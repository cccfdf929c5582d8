//! Times in responses, written the way chrono's serde writes a `DateTime<Utc>` (RFC 3339 in
//! UTC with `Z`; the fraction left out when zero, else in 3, 6 or 9 digits), but formatted
//! into a stack buffer first: chrono writes through `fmt::Display`, piece by piece, and
//! serde_json escapes each piece on its own (a tenth of the server's time on a page of 50
//! events). For `#[serde(serialize_with = "...")]` on the fields of listed rows.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    if !(0..=9999).contains(&at.year()) {
        return serde::Serialize::serialize(at, serializer);
    }
    let mut buf = [0u8; 32];
    let len = write(at, &mut buf);
    // The buffer holds ASCII digits and separators only.
    serializer.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default())
}

/// Writes `at` (a year of four digits) into `buf`, returning the length.
fn write(at: &DateTime<Utc>, buf: &mut [u8; 32]) -> usize {
    let mut out = Out { buf, len: 0 };
    out.digits(at.year().unsigned_abs(), 4);
    out.byte(b'-');
    out.digits(at.month(), 2);
    out.byte(b'-');
    out.digits(at.day(), 2);
    out.byte(b'T');
    out.digits(at.hour(), 2);
    out.byte(b':');
    out.digits(at.minute(), 2);
    out.byte(b':');
    // A leap second is stored as nanoseconds past 1e9.
    let nanos = at.nanosecond();
    let (second, nanos) = if nanos >= 1_000_000_000 {
        (at.second() + 1, nanos - 1_000_000_000)
    } else {
        (at.second(), nanos)
    };
    out.digits(second, 2);
    if nanos != 0 {
        out.byte(b'.');
        if nanos % 1_000_000 == 0 {
            out.digits(nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            out.digits(nanos / 1_000, 6);
        } else {
            out.digits(nanos, 9);
        }
    }
    out.byte(b'Z');
    out.len
}

struct Out<'a> {
    buf: &'a mut [u8; 32],
    len: usize,
}

impl Out<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `value` in exactly `width` decimal digits, zero-padded.
    fn digits(&mut self, mut value: u32, width: usize) {
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += width;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    #[derive(serde::Serialize)]
    struct Ours(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    fn same_as_chrono(at: DateTime<Utc>) {
        let ours = serde_json::to_string(&Ours(at)).unwrap();
        let chrono = serde_json::to_string(&at).unwrap();
        assert_eq!(ours, chrono, "{at:?}");
    }

    #[test]
    fn writes_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2014, 5, 17, 8, 30, 5).unwrap();
        for nanos in [
            0,
            1,
            999,
            1_000,
            120_000,
            123_456,
            1_000_000,
            5_000_000,
            123_456_789,
        ] {
            same_as_chrono(base + chrono::Duration::nanoseconds(nanos));
        }
        // Every hour of a few days, with sub-second parts of every kind.
        let mut at = Utc.with_ymd_and_hms(1999, 12, 30, 0, 0, 0).unwrap();
        for step in 0..500_i64 {
            at += chrono::Duration::microseconds(3_600_000_017 + step * 977);
            same_as_chrono(at);
        }
        for year in [-1, 1, 999, 9999, 10_000] {
            same_as_chrono(Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap());
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        same_as_chrono(leap);
    }
}
