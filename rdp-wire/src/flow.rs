//! The vocabulary every layer shares: which side of a connection, when, and between whom.
//!
//! These types sit at the crate root (re-exported as [`crate::Side`], [`crate::Timestamp`] and
//! [`crate::Endpoints`]) because parsers, the analyzer and the tools around the crate (capture
//! readers, reassemblers, reports) all speak of them; none of them knows any protocol.

use crate::Saturate as _;
use core::fmt;
use std::net::SocketAddr;

/// A point in time: nanoseconds since the Unix epoch (1970-01-01T00:00:00Z), UTC.
///
/// One type for every clock in the project: capture timestamps, the analyzer's event times and
/// report times. An `i64` of nanoseconds spans the years 1677 to 2262; conversions from wider
/// values saturate at those ends, so a hostile capture timestamp can never overflow arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    const NANOS_PER_SEC: i128 = 1_000_000_000;

    /// The earliest representable time.
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The latest representable time.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// `secs` seconds and `nanos` nanoseconds after the epoch (excess nanoseconds carry into the
    /// seconds), saturating at [`Timestamp::MIN`] and [`Timestamp::MAX`].
    pub fn from_secs_nanos(secs: i64, nanos: u64) -> Self {
        Self::from_nanos(
            i128::from(secs)
                .saturating_mul(Self::NANOS_PER_SEC)
                .saturating_add(i128::from(nanos)),
        )
    }

    /// The time `nanos` nanoseconds after the epoch, saturating at the representable range.
    pub fn from_nanos(nanos: i128) -> Self {
        match i64::try_from(nanos) {
            Ok(n) => Timestamp(n),
            Err(_) if nanos < 0 => Self::MIN,
            Err(_) => Self::MAX,
        }
    }

    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded towards minus infinity).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// Nanoseconds within the second (`0..1_000_000_000`).
    pub fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(1_000_000_000).saturate()
    }

    /// Nanoseconds from `earlier` to `self` (negative when `self` is earlier), saturating.
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Milliseconds from `earlier` to `self` (negative when `self` is earlier).
    // A float is the output format; i64 -> f64 rounds beyond 2^53 ns (104 days), which only
    // costs sub-microsecond precision on absurd spans.
    #[allow(clippy::as_conversions, clippy::cast_precision_loss)]
    pub fn millis_since(self, earlier: Timestamp) -> f64 {
        self.nanos_since(earlier) as f64 / 1e6
    }
}

impl fmt::Display for Timestamp {
    /// Seconds with nine decimals, as tshark prints `frame.time_epoch` (`-` before the epoch).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (secs, nanos) = (abs / 1_000_000_000, abs % 1_000_000_000);
        write!(f, "{sign}{secs}.{nanos:09}")
    }
}

/// One of the two directions of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side that opened the connection (sent the SYN or the X.224 request).
    Client,
    /// The side that accepted it.
    Server,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// `"client"` or `"server"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// 0 for the client, 1 for the server: the index into per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }

    /// This side's element of a per-side pair (client first).
    pub fn of<T>(self, pair: &[T; 2]) -> &T {
        let [client, server] = pair;
        match self {
            Side::Client => client,
            Side::Server => server,
        }
    }

    /// This side's element of a per-side pair (client first), mutably.
    pub fn of_mut<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [client, server] = pair;
        match self {
            Side::Client => client,
            Side::Server => server,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who talks to whom: the identity of one connection, oriented (the client opened it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoints {
    /// The side that opened the connection.
    pub client: SocketAddr,
    /// The side that accepted it.
    pub server: SocketAddr,
}

impl Endpoints {
    /// The address of `side`.
    pub fn addr(&self, side: Side) -> SocketAddr {
        match side {
            Side::Client => self.client,
            Side::Server => self.server,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_saturates_and_prints_like_tshark() {
        assert_eq!(
            Timestamp::from_secs_nanos(1, 1_500_000_000).0,
            2_500_000_000
        );
        assert_eq!(Timestamp::from_secs_nanos(i64::MAX, 0), Timestamp::MAX);
        assert_eq!(Timestamp::from_secs_nanos(i64::MIN, 0), Timestamp::MIN);
        assert_eq!(
            Timestamp(1_764_410_677_000_000_042).to_string(),
            "1764410677.000000042"
        );
        assert_eq!(Timestamp(-1_500_000_000).to_string(), "-1.500000000");
        assert_eq!(Timestamp(-1_500_000_000).secs(), -2);
        assert_eq!(Timestamp(-1_500_000_000).subsec_nanos(), 500_000_000);
        assert_eq!(Timestamp::MIN.nanos_since(Timestamp::MAX), i64::MIN);
    }

    #[test]
    fn side_picks_its_half() {
        let mut pair = [1, 2];
        assert_eq!(*Side::Server.of(&pair), 2);
        *Side::Client.of_mut(&mut pair) = 7;
        assert_eq!(pair, [7, 2]);
        assert_eq!(Side::Client.peer().index(), 1);
    }
}
