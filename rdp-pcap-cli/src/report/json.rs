//! The JSON shapes of the reports (`--format jsonl` and `--format json`).
//!
//! Key names are the output contract (see `docs/output.md`): a part that was not seen is
//! `null`, never omitted.

use rdp_wire::Bump as _;
use rdp_wire::Saturate as _;
use std::net::SocketAddr;

use rdp_wire::analyzer::{AlertEvent, TlsFacts};
use rdp_wire::analyzer::{
    Confirm, McsDisconnect, McsFacts, StandardSecurity, TunnelFacts, X224Facts,
};
use rdp_wire::gcc::{ChannelSummary, ClientSettings, ServerSettings};
use rdp_wire::names::{EncryptionMethods, RdpVersion};
use rdp_wire::x224::Protocols;
use rdp_wire::x509::X509Summary;
use rdp_wire::{FlagName, Joined};
use rdp_wire::{Side, Timestamp};
use serde_json::{json, Value};

use rdp_wire::analyzer::{CaptureFinding, Finding};

use super::Summary;
use crate::record::{CaptureReport, ConnectionRecord, InputProblem, Link, TimelineEntry};

/// Version of the JSON schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// `ip:port`, IPv6 in brackets.
pub fn endpoint(addr: &SocketAddr) -> String {
    addr.to_string()
}

/// RFC 3339 UTC with microseconds (truncated): `2026-11-29T10:03:46.123456Z`.
///
/// Written digit by digit rather than through a `time` format description, which cost as
/// much as the rest of a connection's numbers. Every `Timestamp` (an `i64` of nanoseconds)
/// falls in the years 1677 to 2262, so the year always has four digits.
pub fn rfc3339(ts: Timestamp) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.0)) else {
        return format!("@{}ns", ts.0);
    };
    let mut s = String::with_capacity(27);
    let year = t.year().saturate();
    let fields = [
        (year, 4, '-'),
        (u32::from(u8::from(t.month())), 2, '-'),
        (u32::from(t.day()), 2, 'T'),
        (u32::from(t.hour()), 2, ':'),
        (u32::from(t.minute()), 2, ':'),
        (u32::from(t.second()), 2, '.'),
        (t.microsecond(), 6, 'Z'),
    ];
    for (value, width, after) in fields {
        push_digits(&mut s, value, width);
        s.push(after);
    }
    s
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(s: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = 10u32.checked_pow(place).map_or(0, |p| value / p % 10);
        s.extend(char::from_digit(digit, 10));
    }
}

/// Rounds milliseconds to microsecond precision for stable output. Every value written is a
/// duration or an offset from the connection's first packet; a negative one (capture
/// timestamps that go backwards) is written as 0.
pub fn round_ms(ms: f64) -> f64 {
    let ms = if ms > 0.0 { ms } else { 0.0 };
    (ms * 1000.0).round() / 1000.0
}

/// Defines a borrowed view that serializes as one JSON object, keys in the order given.
///
/// The objects are serialized straight to the output for `--format jsonl` and through
/// `serde_json::to_value` for `--format json`, so both formats share one definition; building
/// a `serde_json::Value` tree first (an allocation per key and value) was the largest cost of
/// analysing a connection.
macro_rules! json_object {
    (
        $(#[$meta:meta])*
        $name:ident<$lt:lifetime> { $($field:ident : $ty:ty),* $(,)? }
        |$this:ident| { $($key:literal : $val:expr),* $(,)? }
    ) => {
        $(#[$meta])*
        struct $name<$lt> { $($field: $ty),* }
        impl serde::Serialize for $name<'_> {
            fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct as _;
                let $this = self;
                // A struct rather than a map: its keys are `&'static str`, which the JSON
                // lines writer copies without looking for characters to escape.
                let mut object = ser.serialize_struct(stringify!($name), [$($key),*].len())?;
                $( object.serialize_field($key, &$val)?; )*
                object.end()
            }
        }
    };
}

json_object! {
    X224Json<'a> { x: &'a X224Facts }
    |this| {
        "cookie": this.x.cookie,
        "routing_token": this.x.routing_token,
        "requested_protocols": this.x.requested_protocols
            .map(|p| Names(move || p.protocol_name_iter())),
        "request_flags": this.x.request_flags.map(|f| Names(move || f.name_iter())),
        "correlation_id": this.x.correlation_id,
        "confirm": match this.x.confirm {
            Some(_) if this.x.malformed_confirm => Some("malformed"),
            Some(Confirm::Selected { .. }) => Some("RDP_NEG_RSP"),
            Some(Confirm::Failure { .. }) => Some("RDP_NEG_FAILURE"),
            Some(Confirm::Legacy) => Some("legacy"),
            None => None,
        },
        "selected_protocol": match this.x.confirm {
            Some(Confirm::Selected { protocol, .. }) => {
                Some(JoinedNames(move || protocol.protocol_name_iter()))
            }
            _ => None,
        },
        "response_flags": match this.x.confirm {
            Some(Confirm::Selected { flags, .. }) => Some(Names(move || flags.name_iter())),
            _ => None,
        },
        "failure_code": match this.x.confirm {
            Some(Confirm::Failure { code }) => Some(code.to_string()),
            _ => None,
        },
    }
}

fn ms_from(start: Timestamp, at: Timestamp) -> f64 {
    round_ms(at.millis_since(start))
}

json_object! {
    CertificateJson<'a> { c: &'a X509Summary }
    |this| {
        "subject": this.c.subject,
        "issuer": this.c.issuer,
        "san": this.c.san,
        "san_not_kept": this.c.san_not_kept,
        "serial": this.c.serial,
        "not_before": this.c.not_before_rfc3339,
        "not_after": this.c.not_after_rfc3339,
        "key_type": this.c.key_type,
        "key_bits": this.c.key_bits,
        "curve": this.c.curve,
        "signature": this.c.signature_algorithm,
        "self_signed": this.c.self_signed,
        "sha256": this.c.sha256,
        "eku": this.c.eku,
        "eku_not_kept": this.c.eku_not_kept,
    }
}

json_object! {
    AlertJson<'a> { tls: &'a TlsFacts, a: &'a AlertEvent, start: Timestamp }
    |this| {
        "from": this.a.side.as_str(),
        "level": this.a.level.map(|l| l.to_string()),
        "description": this.a.description.map(|d| d.to_string()),
        "encrypted": this.a.encrypted,
        "at_ms": ms_from(this.start, this.a.at),
        "phase": this.a.phase.reported(this.tls),
    }
}

/// A sequence serialized from an iterator made on demand.
struct Seq<F>(F);

/// Flag names as a JSON array of strings (what `names()` lists), without building the list.
struct Names<F>(F);

impl<F, I> serde::Serialize for Names<F>
where
    F: Fn() -> I,
    I: Iterator<Item = FlagName>,
{
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq((self.0)().map(NameJson))
    }
}

/// Flag names joined by `|` as one JSON string.
struct JoinedNames<F>(F);

impl<F, I> serde::Serialize for JoinedNames<F>
where
    F: Fn() -> I,
    I: Iterator<Item = FlagName> + Clone,
{
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(&Joined((self.0)()))
    }
}

struct NameJson(FlagName);

impl serde::Serialize for NameJson {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            FlagName::Named(name) => ser.serialize_str(name),
            unknown @ FlagName::Unknown(_) => ser.collect_str(&unknown),
        }
    }
}

impl<F, I> serde::Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq((self.0)())
    }
}

/// An `ip:port` endpoint as a JSON string: an IPv4 one written digit by digit (what
/// `Display` prints, without the formatting machinery), an IPv6 one through `Display`.
struct Endpoint(SocketAddr);

/// A short ASCII string built on the stack.
struct Small {
    bytes: [u8; 24],
    len: usize,
}

impl Small {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len.bump();
        }
    }

    /// `n` in decimal, without leading zeros.
    fn number(&mut self, n: u16) {
        let mut started = false;
        for place in [10_000u16, 1_000, 100, 10, 1] {
            let digit = n / place % 10;
            if digit != 0 || started || place == 1 {
                started = true;
                self.push(b'0'.saturating_add(digit.saturate()));
            }
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

impl serde::Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let SocketAddr::V4(v4) = self.0 else {
            return ser.collect_str(&self.0);
        };
        let mut s = Small {
            bytes: [0; 24],
            len: 0,
        };
        for (i, octet) in v4.ip().octets().into_iter().enumerate() {
            if i > 0 {
                s.push(b'.');
            }
            s.number(u16::from(octet));
        }
        s.push(b':');
        s.number(v4.port());
        ser.serialize_str(s.as_str())
    }
}

/// A value printed through its `Display`, as a JSON string.
struct Shown<T>(T);

impl<T: std::fmt::Display> serde::Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(&self.0)
    }
}

/// A value with a static name when it is a known one: written as that name without going
/// through `Display` (the lists of suites and groups are most of a connection's strings).
trait StaticName: std::fmt::Display + Copy {
    fn static_name(self) -> Option<&'static str>;
}

macro_rules! static_name {
    ($($t:ty),*) => {
        $(impl StaticName for $t {
            fn static_name(self) -> Option<&'static str> {
                self.name()
            }
        })*
    };
}

static_name!(
    rdp_wire::tls::CipherSuite,
    rdp_wire::tls::NamedGroup,
    rdp_wire::tls::ProtocolVersion
);

/// Serializes as [`StaticName::static_name`], else as `Display` (the same text).
struct Name<T>(T);

impl<T: StaticName> serde::Serialize for Name<T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self.0.static_name() {
            // Table names have nothing to escape (`static_names_need_no_escaping`).
            Some(name) => ser.serialize_newtype_struct(super::compact::CLEAN_STR, name),
            None => ser.collect_str(&self.0),
        }
    }
}

json_object! {
    TimelineJson<'a> { e: &'a TimelineEntry, start: Timestamp }
    |this| {
        "at_ms": round_ms(this.e.at.millis_since(this.start)),
        "from": this.e.side.map(|s| s.as_str()),
        "event": this.e.what,
    }
}

json_object! {
    TlsJson<'a> { t: &'a TlsFacts, start: Timestamp }
    |this| {
        "client_versions": this.t.client_hello_at.is_some()
            .then_some(Seq(|| this.t.client_versions.iter().copied().map(Name))),
        "client_cipher_suites": this.t.client_hello_at.is_some()
            .then_some(Seq(|| this.t.client_cipher_suites.iter().copied().map(Name))),
        "client_cipher_suites_not_kept": this.t.client_hello_at.is_some()
            .then_some(this.t.client_cipher_suites_not_kept),
        "sni": this.t.sni,
        "alpn": this.t.alpn,
        "alpn_not_kept": this.t.alpn_not_kept,
        "supported_groups": Seq(|| this.t.supported_groups.iter().copied().map(Name)),
        "supported_groups_not_kept": this.t.supported_groups_not_kept,
        "ja4": this.t.ja4,
        "ja4_r": this.t.ja4_r,
        "ja3": this.t.ja3,
        "version": this.t.version.map(Name),
        "cipher_suite": this.t.cipher_suite.map(Name),
        "key_exchange_group": this.t.key_exchange_group.map(Name),
        "hello_retry_request": this.t.hello_retry_request,
        "ja3s": this.t.ja3s,
        "certificate": this.t.certificates.first().map(|c| CertificateJson { c }),
        "chain_length": (!this.t.certificates.is_empty()).then_some(this.t.chain_length),
        "alerts": Seq(|| this.t.alerts.iter().map(|a| AlertJson {
            tls: this.t,
            a,
            start: this.start,
        })),
        "handshake_complete": this.t.handshake_complete,
        "client_app_records": this.t.client_app_records,
        "server_app_records": this.t.server_app_records,
        "clear_text_from": this.t.non_tls_from.map(|s| s.as_str()),
    }
}

/// The `tls` object.
pub fn tls(t: &TlsFacts, start: Timestamp) -> Value {
    serde_json::to_value(TlsJson { t, start }).unwrap_or(Value::Null)
}

/// An RDP version word: its name and value, `RDP 5.0+ (0x00080004)`.
pub fn rdp_version(v: RdpVersion) -> String {
    match v.name() {
        Some(name) => format!("{name} ({:#010x})", v.0),
        None => format!("{:#010x}", v.0),
    }
}

/// Encryption methods by name; `["NONE"]` when no bit is set.
pub fn methods(m: EncryptionMethods) -> Vec<String> {
    method_names(m).map(|n| n.to_string()).collect()
}

/// [`methods`] without allocating.
fn method_names(m: EncryptionMethods) -> impl Iterator<Item = FlagName> + Clone {
    (m.bits() == 0)
        .then_some(FlagName::Named("NONE"))
        .into_iter()
        .chain(m.name_iter())
}

json_object! {
    ChannelJson<'a> { ch: &'a ChannelSummary }
    |this| {
        "name": this.ch.name,
        "options": Names(|| this.ch.options.name_iter()),
    }
}

json_object! {
    ClientSettingsJson<'a> { c: &'a ClientSettings }
    |this| {
        "version": rdp_version(this.c.version),
        "desktop_width": this.c.desktop_width,
        "desktop_height": this.c.desktop_height,
        "color_depth": this.c.color_depth,
        "keyboard_layout": this.c.keyboard_layout_name.map_or_else(
            || format!("{:#010x}", this.c.keyboard_layout),
            str::to_string,
        ),
        "keyboard_layout_id": format!("{:#010x}", this.c.keyboard_layout),
        "client_build": this.c.client_build,
        "client_build_name": this.c.client_build_name,
        "client_name": this.c.client_name,
        "client_product_id": this.c.client_product_id,
        "client_dig_product_id": this.c.client_dig_product_id,
        "early_capability_flags": this.c.early_capability_flags
            .map(|f| Names(move || f.name_iter())),
        "connection_type": this.c.connection_type.map(Shown),
        "server_selected_protocol": this.c.server_selected_protocol
            .map(|p| Names(move || Protocols(p).protocol_name_iter())),
        "encryption_methods": this.c.encryption_methods
            .map(|m| Names(move || method_names(m))),
        "channels": Seq(|| this.c.channels.iter().map(|ch| ChannelJson { ch })),
        "cluster_flags": this.c.cluster_flags.map(|f| Names(move || f.name_iter())),
        "redirected_session_id": this.c.redirected_session_id,
        "monitor_count": this.c.monitor_count,
        "unknown_blocks": this.c.unknown_blocks,
    }
}

json_object! {
    ServerCertificateJson<'a> { c: &'a rdp_wire::gcc::ServerCertificateSummary }
    |this| {
        "type": this.c.kind.to_string(),
        "key_bits": this.c.key_bits,
        "count": this.c.count,
        "permanent": this.c.permanent,
    }
}

json_object! {
    ServerSettingsJson<'a> { s: &'a ServerSettings }
    |this| {
        "version": this.s.version.map(rdp_version),
        "client_requested_protocols": this.s.client_requested_protocols
            .map(|p| Names(move || Protocols(p).protocol_name_iter())),
        "encryption_method": this.s.encryption_method
            .map(|m| JoinedNames(move || method_names(m))),
        "encryption_level": this.s.encryption_level.map(Shown),
        "certificate": this.s.certificate.as_ref().map(|c| ServerCertificateJson { c }),
        "io_channel": this.s.io_channel,
        "channels": this.s.channels,
        "message_channel": this.s.message_channel,
        "unknown_blocks": this.s.unknown_blocks,
    }
}

json_object! {
    ClientInfoJson<'a> { m: &'a McsFacts }
    |this| {
        "encrypted": this.m.client_info_encrypted,
        "user_name": this.m.user_name,
        "domain": this.m.domain,
    }
}

json_object! {
    LicensingJson<'a> { m: &'a McsFacts }
    |this| {
        "pdus": this.m.license_pdus,
        "error_code": this.m.license_error.map(|e| e.error_code.to_string()),
        "state_transition": this.m.license_error.map(|e| e.state_transition.to_string()),
    }
}

json_object! {
    DisconnectJson<'a> { d: &'a McsDisconnect }
    |this| {
        "from": this.d.from.as_str(),
        "reason": this.d.reason.to_string(),
        "in_clear_inside_tls": this.d.in_clear_inside_tls,
    }
}

json_object! {
    McsJson<'a> { m: &'a McsFacts }
    |this| {
        "client": this.m.client.as_ref().map(|c| ClientSettingsJson { c }),
        "server": this.m.server.as_ref().map(|s| ServerSettingsJson { s }),
        "result": this.m.result.map(Shown),
        "users_attached": this.m.users_attached,
        "channels_joined": this.m.channels_joined,
        "security_exchange": this.m.security_exchange_at.is_some(),
        "client_info": this.m.client_info_at.map(|_| ClientInfoJson { m: this.m }),
        "licensing": (this.m.license_pdus > 0).then_some(LicensingJson { m: this.m }),
        "demand_active": this.m.demand_active_at.is_some(),
        "confirm_active": this.m.confirm_active_at.is_some(),
        "error_info": this.m.error_info.map(Shown),
        "disconnect": this.m.disconnect.as_ref().map(|d| DisconnectJson { d }),
    }
}

/// The `mcs` object.
pub fn mcs(m: &McsFacts) -> Value {
    serde_json::to_value(McsJson { m }).unwrap_or(Value::Null)
}

json_object! {
    ViaJson<'a> { t: &'a TunnelFacts }
    |this| {
        "kind": this.t.kind.as_str(),
        "target": this.t.target,
        "auth": this.t.username_password.then_some("username/password"),
        "granted": this.t.answer.as_ref().map(|a| a.granted),
        "refused": this.t.answer.as_ref().and_then(|a| a.refused.as_deref()),
        "basis": this.t.basis,
    }
}

json_object! {
    EndJson<'a> { rec: &'a ConnectionRecord }
    |this| {
        "by": this.rec.facts.close.map(|c| c.by.as_str()),
        "how": this.rec.facts.close.map_or("open", |c| c.kind.as_str()),
        "ms_after_last_handshake": this.rec.facts.close
            .and_then(|c| this.rec.facts.ms_after_last_handshake(c.at))
            .map(round_ms),
        "flow": this.rec.flow_end.as_str(),
    }
}

json_object! {
    TcpJson<'a> { rec: &'a ConnectionRecord }
    |this| {
        "syn": this.rec.facts.syn_at.is_some(),
        "syn_count": this.rec.facts.syn_count,
        "syn_ack": this.rec.facts.syn_ack_at.is_some(),
        "client_packets": this.rec.packets[0],
        "server_packets": this.rec.packets[1],
        "client_bytes": this.rec.facts.side(Side::Client).bytes,
        "server_bytes": this.rec.facts.side(Side::Server).bytes,
        "client_bytes_lost": this.rec.facts.side(Side::Client).gap_bytes,
        "server_bytes_lost": this.rec.facts.side(Side::Server).gap_bytes,
    }
}

struct StandardSecurityJson(StandardSecurity);

impl serde::Serialize for StandardSecurityJson {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = ser.serialize_map(None)?;
        map.serialize_entry(
            "encryption_method",
            &methods(self.0.encryption_method).join("|"),
        )?;
        map.serialize_entry("encryption_level", &Shown(self.0.encryption_level))?;
        map.end()
    }
}

json_object! {
    LinkJson<'a> { l: &'a Link }
    |this| {
        "rel": this.l.rel.as_str(),
        "id": this.l.id,
        "basis": this.l.basis.as_str(),
        "after_ms": this.l.after_ms.map(round_ms),
        "change": this.l.change,
    }
}

json_object! {
    VerdictJson<'a> { rec: &'a ConnectionRecord }
    |this| {
        "code": this.rec.verdict.code.as_str(),
        "severity": this.rec.verdict.severity.as_str(),
        "summary": this.rec.verdict.summary,
        "fix": crate::fix::for_verdict(this.rec),
    }
}

json_object! {
    FindingJson<'a> { f: &'a Finding, target: crate::fix::Target }
    |this| {
        "code": this.f.code.as_str(),
        "severity": this.f.severity.as_str(),
        "summary": this.f.summary,
        "fix": crate::fix::for_finding(this.f.code.as_str(), this.target),
    }
}

/// The anomalies of a connection: the analyzer's, the TLS tracker's (prefixed `tls: `), and a
/// count of those not kept.
struct Anomalies<'a>(&'a ConnectionRecord);

impl serde::Serialize for Anomalies<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let f = &self.0.facts;
        let mut seq = ser.serialize_seq(None)?;
        for a in &f.anomalies {
            seq.serialize_element(a)?;
        }
        for a in self.0.tls.iter().flat_map(|t| &t.anomalies) {
            seq.serialize_element(&format_args!("tls: {a}"))?;
        }
        if f.anomalies_dropped > 0 {
            seq.serialize_element(&format_args!(
                "{} more anomalies not listed",
                f.anomalies_dropped
            ))?;
        }
        seq.end()
    }
}

json_object! {
    /// The `connection` object, serialized without building a `serde_json::Value` first.
    ConnectionJsonInner<'a> { rec: &'a ConnectionRecord }
    |this| {
        "type": "connection",
        "id": this.rec.id,
        "capture": this.rec.capture,
        "client": Endpoint(this.rec.endpoints.client),
        "server": Endpoint(this.rec.endpoints.server),
        "start": rfc3339(this.rec.start),
        "duration_ms": round_ms(this.rec.last.millis_since(this.rec.start)),
        "first_frame": this.rec.first_frame,
        "mid_stream": this.rec.facts.mid_stream,
        "via": this.rec.via().map(|t| ViaJson { t }),
        "tcp": TcpJson { rec: this.rec },
        "x224": this.rec.facts.x224.as_ref().map(|x| X224Json { x }),
        "tls": this.rec.tls.as_ref().map(|t| TlsJson { t, start: this.rec.start }),
        "mcs": this.rec.facts.mcs.as_ref().map(|m| McsJson { m }),
        "standard_security": this.rec.facts.standard_security().map(StandardSecurityJson),
        "end": EndJson { rec: this.rec },
        "verdict": VerdictJson { rec: this.rec },
        "phase": this.rec.verdict.phase.as_str(),
        "timeline": (!this.rec.events.is_empty()).then_some(Seq(|| {
            this.rec.events.iter().map(|e| TimelineJson { e, start: this.rec.start })
        })),
        "links": Seq(|| this.rec.links.iter().map(|l| LinkJson { l })),
        "findings": Seq(|| {
            let target = crate::fix::Target::of(this.rec);
            this.rec.findings.iter().map(move |f| FindingJson { f, target })
        }),
        "anomalies": Anomalies(this.rec),
    }
}

/// The `connection` object, ready to serialize (`serde_json::to_writer`) without an
/// intermediate [`Value`].
pub fn connection_json(rec: &ConnectionRecord) -> impl serde::Serialize + '_ {
    ConnectionJsonInner { rec }
}

/// The `connection` object.
pub fn connection(rec: &ConnectionRecord) -> Value {
    serde_json::to_value(connection_json(rec)).unwrap_or(Value::Null)
}

/// A capture-wide `finding` object.
pub fn capture_finding(capture: &str, f: &CaptureFinding) -> Value {
    json!({
        "type": "finding",
        "capture": capture,
        "code": f.finding.code.as_str(),
        "severity": f.finding.severity.as_str(),
        "summary": f.finding.summary,
        "fix": crate::fix::for_finding(
            f.finding.code.as_str(),
            crate::fix::Target::generic(rdp_wire::analyzer::RDP_DEFAULT_PORT)
        )
        .map(|fix| fix.to_string()),
        "connections": f.connections,
    })
}

/// An `input-error` object.
pub fn input_error(problem: &InputProblem) -> Value {
    json!({"type": "input-error", "capture": problem.input, "message": problem.message})
}

/// The closing `summary` object.
pub fn summary(s: &Summary) -> Value {
    let verdicts: serde_json::Map<String, Value> = s
        .verdicts
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), json!(n)))
        .collect();
    let findings: serde_json::Map<String, Value> = s
        .findings
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), json!(n)))
        .collect();
    json!({
        "type": "summary",
        "schema_version": SCHEMA_VERSION,
        "inputs": s.inputs,
        "inputs_with_problems": s.inputs_with_problems,
        "inputs_not_read": s.inputs_not_read,
        "skipped_files": s.skipped_files,
        "connections": s.connections,
        "verdicts": verdicts,
        "findings": findings,
        "worst_severity": s.worst.map(|w| w.as_str()),
    })
}

/// The `capture` object: what one input held and what could not be used.
pub fn capture(rep: &CaptureReport) -> Value {
    let counters: serde_json::Map<String, Value> = rep
        .counters
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect();
    json!({
        "type": "capture",
        "capture": rep.capture,
        "format": rep.format,
        "compression": rep.compression.map(|c| c.as_str()),
        "merged_from": (!rep.merged_from.is_empty()).then_some(&rep.merged_from),
        "packets": rep.packets,
        "bytes": rep.bytes,
        "tcp_packets": rep.tcp_packets,
        "other_packets": rep.other_packets,
        "unusable_packets": rep.unusable_packets,
        "truncated_packets": rep.truncated_packets,
        "bytes_lost": rep.bytes_lost,
        "connections_seen": rep.connections_seen,
        "connections_reported": rep.connections_reported,
        "connections_evicted": rep.connections_evicted,
        "counters": counters,
        "unreported_server_ports": rep
            .unreported_ports
            .iter()
            .map(|(port, n)| json!({"port": port, "connections": n}))
            .collect::<Vec<_>>(),
        "problems": rep.problems,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What the `time` crate writes for the same format.
    fn by_format_description(ts: Timestamp) -> String {
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.0))
            .unwrap()
            .format(&format)
            .unwrap()
    }

    #[test]
    fn endpoints_as_display_prints_them() {
        let mut addrs: Vec<SocketAddr> = vec![
            "0.0.0.0:0".parse().unwrap(),
            "255.255.255.255:65535".parse().unwrap(),
            "10.0.0.2:1099".parse().unwrap(),
            "172.16.2.1:3389".parse().unwrap(),
            "1.20.100.9:10".parse().unwrap(),
            "[::1]:3389".parse().unwrap(),
            "[fe80::1%2]:3389".parse().unwrap(),
        ];
        for port in [0u16, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535] {
            for octet in [0u8, 7, 10, 99, 100, 255] {
                addrs.push(SocketAddr::from(([octet, 1, octet, 200], port)));
            }
        }
        for a in addrs {
            assert_eq!(
                serde_json::to_string(&Endpoint(a)).unwrap(),
                serde_json::to_string(&a.to_string()).unwrap()
            );
        }
    }

    #[test]
    fn rfc3339_matches_the_time_crate() {
        let mut cases = vec![
            0,
            1,
            999,
            1_000,
            999_999_999,
            -1,
            -1_000,
            1_795_946_626_123_456_789,
            1_767_225_600_040_000_000,
            i64::MIN,
            i64::MAX,
        ];
        // A spread of instants over the whole range, and every second of a leap day.
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(x);
        }
        cases.extend((0..86_400).map(|s| 1_709_164_800_000_000_000 + s * 1_000_000_000 + 123_456));
        for ns in cases {
            let ts = Timestamp(ns);
            assert_eq!(rfc3339(ts), by_format_description(ts), "{ns}");
        }
    }
}
