//! Owned summaries of the Basic Settings Exchange for reports.

use super::client::{ClientData, ClusterFlags, ConnectionType, EarlyCapabilityFlags};
use super::server::{CertChainVersion, CertificateBody, ServerData};
use crate::names::{
    client_build_name, keyboard_language_name, keyboard_layout_name, ChannelOptions,
    EncryptionLevel, EncryptionMethods, RdpVersion,
};

/// One static virtual channel the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSummary {
    /// Channel name (e.g. `rdpdr`, `cliprdr`).
    pub name: String,
    /// Channel options.
    pub options: ChannelOptions,
}

/// What the client said about itself in the client data blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// CS_CORE version.
    pub version: RdpVersion,
    /// desktopWidth.
    pub desktop_width: u16,
    /// desktopHeight.
    pub desktop_height: u16,
    /// Requested color depth in bits per pixel (see
    /// [`super::ClientCoreData::requested_color_depth`]).
    pub color_depth: Option<u16>,
    /// keyboardLayout (KLID).
    pub keyboard_layout: u32,
    /// Name of the layout, or of its language when only the low 16 bits are known.
    pub keyboard_layout_name: Option<&'static str>,
    /// clientBuild.
    pub client_build: u32,
    /// The Windows release with that build, if known.
    pub client_build_name: Option<&'static str>,
    /// clientName.
    pub client_name: String,
    /// clientProductId.
    pub client_product_id: Option<u16>,
    /// clientDigProductId.
    pub client_dig_product_id: Option<String>,
    /// earlyCapabilityFlags.
    pub early_capability_flags: Option<EarlyCapabilityFlags>,
    /// connectionType.
    pub connection_type: Option<ConnectionType>,
    /// serverSelectedProtocol echoed by the client.
    pub server_selected_protocol: Option<u32>,
    /// CS_SECURITY encryptionMethods.
    pub encryption_methods: Option<EncryptionMethods>,
    /// CS_SECURITY extEncryptionMethods.
    pub ext_encryption_methods: Option<u32>,
    /// CS_NET channels.
    pub channels: Vec<ChannelSummary>,
    /// CS_CLUSTER Flags.
    pub cluster_flags: Option<ClusterFlags>,
    /// CS_CLUSTER RedirectedSessionID when REDIRECTED_SESSIONID_FIELD_VALID is set.
    pub redirected_session_id: Option<u32>,
    /// Number of monitors in CS_MONITOR.
    pub monitor_count: Option<usize>,
    /// CS_MULTITRANSPORT flags.
    pub multitransport_flags: Option<u32>,
    /// Block types that were not decoded.
    pub unknown_blocks: Vec<u16>,
    /// Anomalies from the blocks.
    pub anomalies: Vec<&'static str>,
}

impl ClientSettings {
    /// Summarises the client data blocks; `None` when CS_CORE (mandatory) is missing.
    pub fn from_client_data(data: &ClientData<'_>) -> Option<ClientSettings> {
        let core = data.core.as_ref()?;
        let channels = data
            .network
            .as_ref()
            .map(|n| {
                n.channels
                    .iter()
                    .map(|c| ChannelSummary {
                        name: c.name(),
                        options: c.options,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(ClientSettings {
            version: core.version,
            desktop_width: core.desktop_width,
            desktop_height: core.desktop_height,
            color_depth: core.requested_color_depth(),
            keyboard_layout: core.keyboard_layout,
            keyboard_layout_name: keyboard_layout_name(core.keyboard_layout)
                .or_else(|| keyboard_language_name(core.keyboard_layout)),
            client_build: core.client_build,
            client_build_name: client_build_name(core.client_build),
            client_name: core.client_name(),
            client_product_id: core.client_product_id,
            client_dig_product_id: core.client_dig_product_id(),
            early_capability_flags: core.early_capability_flags,
            connection_type: core.connection_type,
            server_selected_protocol: core.server_selected_protocol,
            encryption_methods: data.security.map(|s| s.encryption_methods),
            ext_encryption_methods: data.security.map(|s| s.ext_encryption_methods),
            channels,
            cluster_flags: data.cluster.map(|c| c.flags),
            redirected_session_id: data
                .cluster
                .filter(|c| {
                    c.flags
                        .contains(ClusterFlags::REDIRECTED_SESSIONID_FIELD_VALID)
                })
                .map(|c| c.redirected_session_id),
            monitor_count: data.monitor.as_ref().map(|m| m.monitors.len()),
            multitransport_flags: data.multitransport.map(|m| m.flags),
            unknown_blocks: data.unknown_blocks.clone(),
            anomalies: data.anomalies.clone(),
        })
    }
}

/// The server certificate of Standard RDP Security (`serverCertificate` of SERVER_SECURITY_DATA,
/// MS-RDPBCGR 2.2.1.4.3), summarised; a TLS certificate is a [`crate::x509::X509Summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCertificateSummary {
    /// Proprietary or X.509.
    pub kind: CertChainVersion,
    /// RSA key size in bits (proprietary certificates; X.509 keys are not decoded here).
    pub key_bits: Option<u32>,
    /// Number of certificates (1 for a proprietary certificate).
    pub count: usize,
    /// Permanently issued (the `t` bit is clear).
    pub permanent: bool,
}

/// What the server answered in the server data blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerSettings {
    /// SC_CORE version.
    pub version: Option<RdpVersion>,
    /// SC_CORE clientRequestedProtocols.
    pub client_requested_protocols: Option<u32>,
    /// SC_CORE earlyCapabilityFlags.
    pub early_capability_flags: Option<u32>,
    /// SC_SECURITY encryptionMethod.
    pub encryption_method: Option<EncryptionMethods>,
    /// SC_SECURITY encryptionLevel.
    pub encryption_level: Option<EncryptionLevel>,
    /// Length of the server random.
    pub server_random_len: Option<usize>,
    /// The server certificate.
    pub certificate: Option<ServerCertificateSummary>,
    /// SC_NET MCSChannelId (the I/O channel).
    pub io_channel: Option<u16>,
    /// SC_NET channelIdArray.
    pub channels: Vec<u16>,
    /// SC_MCS_MSGCHANNEL channel id.
    pub message_channel: Option<u16>,
    /// SC_MULTITRANSPORT flags.
    pub multitransport_flags: Option<u32>,
    /// Block types that were not decoded.
    pub unknown_blocks: Vec<u16>,
    /// Anomalies from the blocks.
    pub anomalies: Vec<&'static str>,
}

impl ServerSettings {
    /// Summarises the server data blocks.
    pub fn from_server_data(data: &ServerData<'_>) -> ServerSettings {
        let security = data.security.as_ref();
        let certificate = security
            .and_then(|s| s.server_certificate.as_ref())
            .map(|c| {
                let (key_bits, count) = match &c.body {
                    CertificateBody::Proprietary(p) => (Some(p.public_key.bitlen), 1),
                    CertificateBody::X509(certs) => (None, certs.len()),
                    CertificateBody::Unknown(_) => (None, 0),
                };
                ServerCertificateSummary {
                    kind: c.chain_version,
                    key_bits,
                    count,
                    permanent: !c.temporary,
                }
            });
        ServerSettings {
            version: data.core.map(|c| c.version),
            client_requested_protocols: data.core.and_then(|c| c.client_requested_protocols),
            early_capability_flags: data
                .core
                .and_then(|c| c.early_capability_flags)
                .map(|f| f.0),
            encryption_method: security.map(|s| s.encryption_method),
            encryption_level: security.map(|s| s.encryption_level),
            server_random_len: security.and_then(|s| s.server_random).map(<[u8]>::len),
            certificate,
            io_channel: data.network.as_ref().map(|n| n.mcs_channel_id),
            channels: data
                .network
                .as_ref()
                .map(|n| n.channel_ids.clone())
                .unwrap_or_default(),
            message_channel: data.message_channel.map(|m| m.mcs_channel_id),
            multitransport_flags: data.multitransport.map(|m| m.flags),
            unknown_blocks: data.unknown_blocks.clone(),
            anomalies: data.anomalies.clone(),
        }
    }
}
