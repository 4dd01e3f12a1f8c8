//! The MCS layer of the analyzer: what X.224 Data TPDUs carry in clear text (MS-RDPBCGR
//! 1.3.1.1 phases 2 to 9), with Standard RDP Security or in a decrypted recording.

use super::facts::{LicenseError, McsDisconnect, McsFacts};
use super::{Analyzer, EventKind};
use crate::gcc::{self, ClientSettings, ServerSettings};
use crate::mcs::{self, ConnectPdu, DomainPdu, McsResult};
use crate::names::EncryptionLevel;
use crate::rdp::{self, SecurityFlags, SecurityPayload, ShareControlPduType};
use crate::Bump as _;
use crate::{Side, Timestamp};

/// Security header flags that only a security header can start with in the connection
/// sequence; a Share Control header starts with its length instead.
const SEQUENCE_FLAGS: u16 = SecurityFlags::SEC_EXCHANGE_PKT.0
    | SecurityFlags::SEC_INFO_PKT.0
    | SecurityFlags::SEC_LICENSE_PKT.0
    | SecurityFlags::SEC_ENCRYPT.0
    | SecurityFlags::SEC_REDIRECTION_PKT.0;

/// Whether `data` starts with a Share Control Header (MS-RDPBCGR 2.2.8.1.1.1.1) covering it
/// exactly: totalLength, then pduType with version 1 in its high bits.
fn looks_like_share_control(data: &[u8]) -> bool {
    match data {
        [lo, hi, pdu_type, 0, _, _, ..] => {
            usize::from(u16::from_le_bytes([*lo, *hi])) == data.len() && pdu_type >> 4 == 1
        }
        _ => false,
    }
}

impl Analyzer {
    fn mcs(&mut self) -> &mut McsFacts {
        self.facts.mcs.get_or_insert_with(Box::default)
    }

    fn sequence_pdu(&mut self, at: Timestamp) {
        self.mcs().last_sequence_at = Some(at);
        self.facts.last_handshake_at = Some(at);
    }

    /// The user data of an X.224 Data TPDU: an MCS Connect PDU or a domain PDU.
    pub(super) fn mcs_data(&mut self, side: Side, at: Timestamp, data: &[u8], in_clear: bool) {
        if data.first() == Some(&0x7f) {
            match mcs::parse_connect_pdu(data) {
                Ok(pdu) => self.connect_pdu(side, at, &pdu),
                Err(e) => self.facts.anomaly(format!("{side} mcs connect pdu: {e}")),
            }
            return;
        }
        match mcs::parse_domain_pdu(data) {
            Ok(pdu) => self.domain_pdu(side, at, &pdu, in_clear),
            Err(e) => self.facts.anomaly(format!("{side} mcs domain pdu: {e}")),
        }
    }

    fn connect_pdu(&mut self, side: Side, at: Timestamp, pdu: &ConnectPdu<'_>) {
        self.sequence_pdu(at);
        match (side, pdu) {
            (Side::Client, ConnectPdu::Initial(ci)) => {
                self.event(at, side, EventKind::McsConnectInitial);
                let mut anomalies: Vec<String> =
                    ci.anomalies.iter().map(|a| a.to_string()).collect();
                let client = gcc::parse_conference_create_request(ci.user_data).and_then(|req| {
                    anomalies.extend(req.anomalies.iter().map(|a| a.to_string()));
                    gcc::parse_client_data(req.user_data)
                });
                let settings = match client {
                    Ok(data) => ClientSettings::from_client_data(&data),
                    Err(e) => {
                        anomalies.push(format!("client gcc data: {e}"));
                        None
                    }
                };
                if let Some(s) = &settings {
                    anomalies.extend(s.anomalies.iter().map(|a| a.to_string()));
                }
                let mcs = self.mcs();
                mcs.connect_initial_at.get_or_insert(at);
                if mcs.client.is_none() {
                    mcs.client = settings;
                }
                for a in anomalies {
                    self.facts
                        .anomaly(format!("client mcs connect initial: {a}"));
                }
            }
            (Side::Server, ConnectPdu::Response(cr)) => {
                self.event(at, side, EventKind::McsConnectResponse);
                let mut anomalies: Vec<String> =
                    cr.anomalies.iter().map(|a| a.to_string()).collect();
                let server = gcc::parse_conference_create_response(cr.user_data).and_then(|rsp| {
                    anomalies.extend(rsp.anomalies.iter().map(|a| a.to_string()));
                    gcc::parse_server_data(rsp.user_data)
                });
                let settings = match server {
                    Ok(data) => Some(ServerSettings::from_server_data(&data)),
                    Err(e) => {
                        anomalies.push(format!("server gcc data: {e}"));
                        None
                    }
                };
                if let Some(s) = &settings {
                    anomalies.extend(s.anomalies.iter().map(|a| a.to_string()));
                }
                let mcs = self.mcs();
                mcs.connect_response_at.get_or_insert(at);
                mcs.result.get_or_insert(cr.result);
                if mcs.server.is_none() {
                    mcs.server = settings;
                }
                for a in anomalies {
                    self.facts
                        .anomaly(format!("server mcs connect response: {a}"));
                }
            }
            _ => self
                .facts
                .anomaly(format!("{side} sent an mcs connect pdu of the other side")),
        }
    }

    fn domain_pdu(&mut self, side: Side, at: Timestamp, pdu: &DomainPdu<'_>, in_clear: bool) {
        match pdu {
            DomainPdu::ErectDomainRequest(_) => {
                self.sequence_pdu(at);
                self.mcs().erect_domain = true;
            }
            DomainPdu::AttachUserRequest => self.sequence_pdu(at),
            DomainPdu::AttachUserConfirm(c) => {
                self.sequence_pdu(at);
                if c.result == McsResult::SUCCESSFUL {
                    let mcs = self.mcs();
                    mcs.users_attached.bump();
                }
            }
            DomainPdu::ChannelJoinRequest(_) => {
                self.sequence_pdu(at);
                let mcs = self.mcs();
                mcs.channel_join_requests.bump();
            }
            DomainPdu::ChannelJoinConfirm(c) => {
                self.sequence_pdu(at);
                if c.result == McsResult::SUCCESSFUL {
                    let mcs = self.mcs();
                    mcs.channels_joined.bump();
                }
            }
            DomainPdu::DisconnectProviderUltimatum(d) => {
                self.event(at, side, EventKind::McsDisconnect);
                let mcs = self.mcs();
                if mcs.disconnect.is_none() {
                    mcs.disconnect = Some(McsDisconnect {
                        from: side,
                        reason: d.reason,
                        at,
                        in_clear_inside_tls: in_clear,
                    });
                }
            }
            DomainPdu::SendDataRequest(sd) | DomainPdu::SendDataIndication(sd) => {
                self.send_data(side, at, sd);
            }
            DomainPdu::Other(_) => {}
        }
    }

    /// The RDP PDU inside MCS Send Data: a security header first during the connection
    /// sequence (and always above encryption level NONE), else a Share Control header.
    ///
    /// With ENCRYPTION_LEVEL_NONE and ENCRYPTION_METHOD_NONE (MS-RDPBCGR 5.3.2, 2.2.1.4.3) the
    /// PDUs after the security exchange carry no security header (2.2.8.1.1.2: it "MUST NOT be
    /// included"), except the Client Info PDU (2.2.1.11.1.1, flags SEC_INFO_PKT) and the
    /// licensing PDUs (2.2.1.12, flags SEC_LICENSE_PKT), which keep the basic one; a decrypted
    /// Enhanced RDP Security recording (5.4.4, the server's data also NONE) is laid out alike.
    /// There, only the client's first PDU flagged SEC_INFO_PKT, and PDUs flagged
    /// SEC_LICENSE_PKT before the capabilities exchange (licensing is phase 7 of 1.3.1.1, the
    /// Demand Active opens phase 9), are read as security PDUs, and only when whole (not an MCS
    /// segment), on the I/O channel (the MCSChannelId of the server's network data,
    /// 2.2.1.4.4), and not a Share Control PDU: the first bytes of a virtual channel PDU are
    /// its length (CHANNEL_PDU_HEADER, 2.2.6.1.1), and read as flags they made hundreds of
    /// false anomalies and an "encrypted" Client Info.
    fn send_data(&mut self, side: Side, at: Timestamp, sd: &crate::mcs::SendData<'_>) {
        let data = sd.user_data;
        let server = self.facts.mcs.as_ref().and_then(|m| m.server.as_ref());
        let io_channel = server.and_then(|s| s.io_channel);
        let level = server.and_then(|s| s.encryption_level);
        let no_encryption = level == Some(EncryptionLevel::NONE)
            && server
                .and_then(|s| s.encryption_method)
                .is_some_and(|m| m.bits() == 0);
        let encrypted_level = level.is_some_and(|l| l != EncryptionLevel::NONE);
        // The basic security header's flags, when the PDU is long enough to have one.
        let flags = match data {
            [lo, hi, ..] => u16::from_le_bytes([*lo, *hi]),
            _ => 0,
        };
        let sequence_flags = flags & SEQUENCE_FLAGS != 0;
        if no_encryption {
            let io = io_channel.is_none_or(|c| c == sd.channel_id);
            if looks_like_share_control(data) {
                self.share_pdu(side, at, data);
            } else if io && sd.begin && sd.end && self.headed_without_encryption(side, flags) {
                self.parse_security(side, at, data, false);
            }
            // Anything else is virtual channel or session data without a header.
            return;
        }
        if !encrypted_level && looks_like_share_control(data) {
            self.share_pdu(side, at, data);
        } else if encrypted_level || sequence_flags {
            self.parse_security(side, at, data, level == Some(EncryptionLevel::FIPS));
        }
        // Anything else is virtual channel or session data without a header of interest.
    }

    /// With encryption level NONE: whether a PDU with these first two bytes still carries the
    /// basic security header (see [`Analyzer::send_data`]): the client's Client Info, or a
    /// licensing PDU before the capabilities exchange; neither is encrypted nor a Security
    /// Exchange then.
    fn headed_without_encryption(&self, side: Side, flags: u16) -> bool {
        let m = self.facts.mcs.as_ref();
        let never = SecurityFlags::SEC_ENCRYPT.0 | SecurityFlags::SEC_EXCHANGE_PKT.0;
        if flags & never != 0 {
            return false;
        }
        let info = flags & SecurityFlags::SEC_INFO_PKT.0 != 0;
        let license = flags & SecurityFlags::SEC_LICENSE_PKT.0 != 0;
        let client_info_seen = m.is_some_and(|m| m.client_info_at.is_some());
        let capabilities_seen =
            m.is_some_and(|m| m.demand_active_at.is_some() || m.confirm_active_at.is_some());
        (side == Side::Client && info && !client_info_seen) || (license && !capabilities_seen)
    }

    fn parse_security(&mut self, side: Side, at: Timestamp, data: &[u8], fips: bool) {
        match rdp::parse_security_pdu(data, fips) {
            Ok(pdu) => self.security_pdu(side, at, &pdu),
            Err(e) => self.facts.anomaly(format!("{side} security pdu: {e}")),
        }
    }

    fn security_pdu(&mut self, side: Side, at: Timestamp, pdu: &rdp::SecurityPdu<'_>) {
        let flags = pdu.header.flags;
        match &pdu.payload {
            SecurityPayload::SecurityExchange(_) => {
                self.sequence_pdu(at);
                self.mcs().security_exchange_at.get_or_insert(at);
            }
            SecurityPayload::ClientInfo(info) => {
                self.sequence_pdu(at);
                let mcs = self.mcs();
                mcs.client_info_at.get_or_insert(at);
                mcs.user_name = Some(info.user_name.clone());
                mcs.domain = Some(info.domain.clone());
            }
            SecurityPayload::License(license) => {
                self.sequence_pdu(at);
                let mcs = self.mcs();
                mcs.license_pdus.bump();
                if let Some(err) = license.error {
                    mcs.license_error = Some(LicenseError {
                        error_code: err.error_code,
                        state_transition: err.state_transition,
                        at,
                    });
                }
            }
            SecurityPayload::Encrypted(_) if flags.contains(SecurityFlags::SEC_INFO_PKT) => {
                self.sequence_pdu(at);
                let mcs = self.mcs();
                mcs.client_info_at.get_or_insert(at);
                mcs.client_info_encrypted = true;
            }
            SecurityPayload::Encrypted(_) => {
                if flags.contains(SecurityFlags::SEC_LICENSE_PKT) {
                    self.sequence_pdu(at);
                }
                let mcs = self.mcs();
                if let Some(n) = mcs.encrypted_pdus.get_mut(side.index()) {
                    n.bump();
                }
            }
            SecurityPayload::Other(rest) => {
                if !flags.contains(SecurityFlags::SEC_ENCRYPT) {
                    self.share_pdu(side, at, rest);
                }
            }
        }
    }

    fn share_pdu(&mut self, side: Side, at: Timestamp, data: &[u8]) {
        let Ok(pdu) = rdp::parse_share_pdu(data) else {
            // Virtual channel data and other PDUs without a share header are session traffic.
            return;
        };
        match pdu.pdu_type {
            ShareControlPduType::DEMAND_ACTIVE if side == Side::Server => {
                self.sequence_pdu(at);
                self.mcs().demand_active_at.get_or_insert(at);
            }
            ShareControlPduType::CONFIRM_ACTIVE if side == Side::Client => {
                self.sequence_pdu(at);
                self.mcs().confirm_active_at.get_or_insert(at);
            }
            _ => {}
        }
        if let Some(info) = pdu.error_info {
            self.mcs().error_info = Some(info);
        }
    }
}
