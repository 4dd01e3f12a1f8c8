//! T.125 Multipoint Communication Service PDUs as RDP uses them.
//!
//! - [`parse_connect_initial`], [`parse_connect_response`]: the BER-encoded Connect PDUs of the
//!   Basic Settings Exchange (MS-RDPBCGR 2.2.1.3, 2.2.1.4), framed by their own BER length:
//!   [`connect_pdu_len`] is the frame probe.
//! - [`parse_domain_pdu`]: the PER-encoded domain PDUs (Erect Domain, Attach User, Channel
//!   Join, Send Data, Disconnect Provider Ultimatum).
//!
//! Both take the bytes inside an X.224 Data TPDU (after the TPKT header and `02 F0 80`).

mod ber;
mod connect;
mod domain;

pub use connect::{
    connect_pdu_len, parse_connect_initial, parse_connect_pdu, parse_connect_response,
    ConnectInitial, ConnectPdu, ConnectResponse, DomainParameters, McsResult,
};
pub use domain::{
    parse_domain_pdu, AttachUserConfirm, ChannelJoinConfirm, ChannelJoinRequest, DataPriority,
    DisconnectProviderUltimatum, DisconnectReason, DomainMcsPduType, DomainPdu, ErectDomainRequest,
    SendData,
};

#[cfg(test)]
mod tests;
