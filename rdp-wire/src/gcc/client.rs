//! Client data blocks of the GCC Conference Create Request (MS-RDPBCGR 2.2.1.3.2 to 2.2.1.3.9).

use super::{ansi_fixed, data_blocks, utf16_fixed, Le};
use crate::names::{ChannelOptions, EncryptionMethods, RdpVersion};
use crate::values::{open_enum, open_flags};
use crate::Error;

/// CS_CORE.
const CS_CORE: u16 = 0xC001;
/// CS_SECURITY.
const CS_SECURITY: u16 = 0xC002;
/// CS_NET.
const CS_NET: u16 = 0xC003;
/// CS_CLUSTER.
const CS_CLUSTER: u16 = 0xC004;
/// CS_MONITOR.
const CS_MONITOR: u16 = 0xC005;
/// CS_MCS_MSGCHANNEL.
const CS_MCS_MSGCHANNEL: u16 = 0xC006;
/// CS_MONITOR_EX.
const CS_MONITOR_EX: u16 = 0xC008;
/// CS_MULTITRANSPORT.
const CS_MULTITRANSPORT: u16 = 0xC00A;

open_flags! {
    /// Client Core Data `earlyCapabilityFlags` (MS-RDPBCGR 2.2.1.3.2).
    pub struct EarlyCapabilityFlags(u16) {
        /// RNS_UD_CS_SUPPORT_ERRINFO_PDU.
        SUPPORT_ERRINFO_PDU = 0x0001 => "SUPPORT_ERRINFO_PDU",
        /// RNS_UD_CS_WANT_32BPP_SESSION.
        WANT_32BPP_SESSION = 0x0002 => "WANT_32BPP_SESSION",
        /// RNS_UD_CS_SUPPORT_STATUSINFO_PDU.
        SUPPORT_STATUSINFO_PDU = 0x0004 => "SUPPORT_STATUSINFO_PDU",
        /// RNS_UD_CS_STRONG_ASYMMETRIC_KEYS.
        STRONG_ASYMMETRIC_KEYS = 0x0008 => "STRONG_ASYMMETRIC_KEYS",
        /// RNS_UD_CS_RELATIVE_MOUSE_INPUT.
        RELATIVE_MOUSE_INPUT = 0x0010 => "RELATIVE_MOUSE_INPUT",
        /// RNS_UD_CS_VALID_CONNECTION_TYPE.
        VALID_CONNECTION_TYPE = 0x0020 => "VALID_CONNECTION_TYPE",
        /// RNS_UD_CS_SUPPORT_MONITOR_LAYOUT_PDU.
        SUPPORT_MONITOR_LAYOUT_PDU = 0x0040 => "SUPPORT_MONITOR_LAYOUT_PDU",
        /// RNS_UD_CS_SUPPORT_NETCHAR_AUTODETECT.
        SUPPORT_NETCHAR_AUTODETECT = 0x0080 => "SUPPORT_NETCHAR_AUTODETECT",
        /// RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL.
        SUPPORT_DYNVC_GFX_PROTOCOL = 0x0100 => "SUPPORT_DYNVC_GFX_PROTOCOL",
        /// RNS_UD_CS_SUPPORT_DYNAMIC_TIME_ZONE.
        SUPPORT_DYNAMIC_TIME_ZONE = 0x0200 => "SUPPORT_DYNAMIC_TIME_ZONE",
        /// RNS_UD_CS_SUPPORT_HEARTBEAT_PDU.
        SUPPORT_HEARTBEAT_PDU = 0x0400 => "SUPPORT_HEARTBEAT_PDU",
        /// RNS_UD_CS_SUPPORT_SKIP_CHANNELJOIN.
        SUPPORT_SKIP_CHANNELJOIN = 0x0800 => "SUPPORT_SKIP_CHANNELJOIN",
    }
}

open_flags! {
    /// Client Core Data `supportedColorDepths` (MS-RDPBCGR 2.2.1.3.2).
    pub struct SupportedColorDepths(u16) {
        /// RNS_UD_24BPP_SUPPORT.
        BPP24 = 0x0001 => "24BPP",
        /// RNS_UD_16BPP_SUPPORT.
        BPP16 = 0x0002 => "16BPP",
        /// RNS_UD_15BPP_SUPPORT.
        BPP15 = 0x0004 => "15BPP",
        /// RNS_UD_32BPP_SUPPORT.
        BPP32 = 0x0008 => "32BPP",
    }
}

open_enum! {
    /// Client Core Data `connectionType` (MS-RDPBCGR 2.2.1.3.2).
    pub struct ConnectionType(u8) {
        /// CONNECTION_TYPE_MODEM.
        MODEM = 1 => "MODEM",
        /// CONNECTION_TYPE_BROADBAND_LOW.
        BROADBAND_LOW = 2 => "BROADBAND_LOW",
        /// CONNECTION_TYPE_SATELLITE.
        SATELLITE = 3 => "SATELLITE",
        /// CONNECTION_TYPE_BROADBAND_HIGH.
        BROADBAND_HIGH = 4 => "BROADBAND_HIGH",
        /// CONNECTION_TYPE_WAN.
        WAN = 5 => "WAN",
        /// CONNECTION_TYPE_LAN.
        LAN = 6 => "LAN",
        /// CONNECTION_TYPE_AUTODETECT.
        AUTODETECT = 7 => "AUTODETECT",
    }
}

open_flags! {
    /// Client Cluster Data `Flags` (MS-RDPBCGR 2.2.1.3.5). Bits 2..=5 hold the
    /// ServerSessionRedirectionVersionMask value, see [`ClusterFlags::redirection_version`];
    /// they print as unknown bits.
    pub struct ClusterFlags(u32) {
        /// REDIRECTION_SUPPORTED.
        REDIRECTION_SUPPORTED = 0x0000_0001 => "REDIRECTION_SUPPORTED",
        /// REDIRECTED_SESSIONID_FIELD_VALID.
        REDIRECTED_SESSIONID_FIELD_VALID = 0x0000_0002 => "REDIRECTED_SESSIONID_FIELD_VALID",
        /// REDIRECTED_SMARTCARD.
        REDIRECTED_SMARTCARD = 0x0000_0040 => "REDIRECTED_SMARTCARD",
    }
}

impl ClusterFlags {
    /// ServerSessionRedirectionVersionMask: 0 = REDIRECTION_VERSION1 ... 5 = REDIRECTION_VERSION6.
    pub fn redirection_version(self) -> u8 {
        u8::try_from((self.0 & 0x3c) >> 2).unwrap_or(0)
    }
}

/// Client Core Data (TS_UD_CS_CORE, MS-RDPBCGR 2.2.1.3.2).
///
/// Invariant: the mandatory fields (up to `ime_file_name`) were present. Each optional field is
/// `Some` only if the block was long enough for it and for every field before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCoreData<'a> {
    /// version.
    pub version: RdpVersion,
    /// desktopWidth.
    pub desktop_width: u16,
    /// desktopHeight.
    pub desktop_height: u16,
    /// colorDepth (0xCA00 = 4 bpp, 0xCA01 = 8 bpp).
    pub color_depth: u16,
    /// SASSequence.
    pub sas_sequence: u16,
    /// keyboardLayout (KLID, see [`crate::names::keyboard_layout_name`]).
    pub keyboard_layout: u32,
    /// clientBuild.
    pub client_build: u32,
    /// clientName: 32 bytes of UTF-16LE, see [`ClientCoreData::client_name`].
    pub client_name: &'a [u8],
    /// keyboardType.
    pub keyboard_type: u32,
    /// keyboardSubType.
    pub keyboard_sub_type: u32,
    /// keyboardFunctionKey.
    pub keyboard_function_key: u32,
    /// imeFileName: 64 bytes of UTF-16LE.
    pub ime_file_name: &'a [u8],
    /// postBeta2ColorDepth.
    pub post_beta2_color_depth: Option<u16>,
    /// clientProductId.
    pub client_product_id: Option<u16>,
    /// serialNumber.
    pub serial_number: Option<u32>,
    /// highColorDepth (bits per pixel).
    pub high_color_depth: Option<u16>,
    /// supportedColorDepths.
    pub supported_color_depths: Option<SupportedColorDepths>,
    /// earlyCapabilityFlags.
    pub early_capability_flags: Option<EarlyCapabilityFlags>,
    /// clientDigProductId: 64 bytes of UTF-16LE.
    pub client_dig_product_id: Option<&'a [u8]>,
    /// connectionType.
    pub connection_type: Option<ConnectionType>,
    /// pad1octet.
    pub pad1octet: Option<u8>,
    /// serverSelectedProtocol (the X.224 selectedProtocol echoed back).
    pub server_selected_protocol: Option<u32>,
    /// desktopPhysicalWidth (mm).
    pub desktop_physical_width: Option<u32>,
    /// desktopPhysicalHeight (mm).
    pub desktop_physical_height: Option<u32>,
    /// desktopOrientation (degrees).
    pub desktop_orientation: Option<u16>,
    /// desktopScaleFactor (percent).
    pub desktop_scale_factor: Option<u32>,
    /// deviceScaleFactor (percent).
    pub device_scale_factor: Option<u32>,
}

/// Bits per pixel of a `colorDepth`/`postBeta2ColorDepth` RNS_UD_COLOR_* value.
fn rns_color_bpp(value: u16) -> Option<u16> {
    match value {
        0xCA00 => Some(4),
        0xCA01 => Some(8),
        0xCA02 => Some(15),
        0xCA03 => Some(16),
        0xCA04 => Some(24),
        _ => None,
    }
}

impl ClientCoreData<'_> {
    /// clientName as text, cut at the first NUL.
    pub fn client_name(&self) -> String {
        utf16_fixed(self.client_name)
    }

    /// imeFileName as text, cut at the first NUL.
    pub fn ime_file_name(&self) -> String {
        utf16_fixed(self.ime_file_name)
    }

    /// clientDigProductId as text, cut at the first NUL.
    pub fn client_dig_product_id(&self) -> Option<String> {
        self.client_dig_product_id.map(utf16_fixed)
    }

    /// The color depth the client asks for, in bits per pixel: 32 when earlyCapabilityFlags
    /// has WANT_32BPP_SESSION (highColorDepth cannot say 32), else highColorDepth, else
    /// postBeta2ColorDepth, else colorDepth. `None` for values the spec does not define.
    pub fn requested_color_depth(&self) -> Option<u16> {
        if self
            .early_capability_flags
            .is_some_and(|f| f.contains(EarlyCapabilityFlags::WANT_32BPP_SESSION))
        {
            return Some(32);
        }
        if let Some(h) = self.high_color_depth {
            return Some(h);
        }
        match self.post_beta2_color_depth {
            Some(p) => rns_color_bpp(p),
            None => rns_color_bpp(self.color_depth),
        }
    }
}

/// Client Security Data (TS_UD_CS_SEC, MS-RDPBCGR 2.2.1.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSecurityData {
    /// encryptionMethods.
    pub encryption_methods: EncryptionMethods,
    /// extEncryptionMethods (French locale clients only).
    pub ext_encryption_methods: u32,
}

/// One CHANNEL_DEF (MS-RDPBCGR 2.2.1.3.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticChannel<'a> {
    /// name: 8 bytes, NUL-padded ANSI.
    pub name: &'a [u8],
    /// options.
    pub options: ChannelOptions,
}

impl StaticChannel<'_> {
    /// The channel name as text, cut at the first NUL.
    pub fn name(&self) -> String {
        ansi_fixed(self.name)
    }
}

/// Client Network Data (TS_UD_CS_NET, MS-RDPBCGR 2.2.1.3.4).
///
/// Invariant: `channels.len() == channel_count`, checked against the block length first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientNetworkData<'a> {
    /// channelCount.
    pub channel_count: u32,
    /// channelDefArray.
    pub channels: Vec<StaticChannel<'a>>,
}

/// Client Cluster Data (TS_UD_CS_CLUSTER, MS-RDPBCGR 2.2.1.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientClusterData {
    /// Flags.
    pub flags: ClusterFlags,
    /// RedirectedSessionID (meaningful when REDIRECTED_SESSIONID_FIELD_VALID is set).
    pub redirected_session_id: u32,
}

/// TS_MONITOR_DEF (MS-RDPBCGR 2.2.1.3.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorDef {
    /// left.
    pub left: i32,
    /// top.
    pub top: i32,
    /// right (inclusive).
    pub right: i32,
    /// bottom (inclusive).
    pub bottom: i32,
    /// flags (TS_MONITOR_PRIMARY = 1).
    pub flags: u32,
}

/// Client Monitor Data (TS_UD_CS_MONITOR, MS-RDPBCGR 2.2.1.3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMonitorData {
    /// flags (unused).
    pub flags: u32,
    /// monitorDefArray.
    pub monitors: Vec<MonitorDef>,
}

/// TS_MONITOR_ATTRIBUTES (MS-RDPBCGR 2.2.1.3.9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorAttributes {
    /// physicalWidth (mm).
    pub physical_width: u32,
    /// physicalHeight (mm).
    pub physical_height: u32,
    /// orientation (degrees).
    pub orientation: u32,
    /// desktopScaleFactor.
    pub desktop_scale_factor: u32,
    /// deviceScaleFactor.
    pub device_scale_factor: u32,
}

/// Client Monitor Extended Data (TS_UD_CS_MONITOR_EX, MS-RDPBCGR 2.2.1.3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMonitorExtendedData {
    /// flags (unused).
    pub flags: u32,
    /// monitorAttributeSize (20).
    pub monitor_attribute_size: u32,
    /// monitorAttributesArray.
    pub monitors: Vec<MonitorAttributes>,
}

/// Client Message Channel Data (TS_UD_CS_MCS_MSGCHANNEL, MS-RDPBCGR 2.2.1.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientMessageChannelData {
    /// flags (unused).
    pub flags: u32,
}

/// Client Multitransport Channel Data (TS_UD_CS_MULTITRANSPORT, MS-RDPBCGR 2.2.1.3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientMultitransportData {
    /// flags (TRANSPORTTYPE_UDPFECR 0x01, UDPFECL 0x04, UDP_PREFERRED 0x100, ...).
    pub flags: u32,
}

/// All client data blocks of one Conference Create Request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientData<'a> {
    /// CS_CORE.
    pub core: Option<ClientCoreData<'a>>,
    /// CS_SECURITY.
    pub security: Option<ClientSecurityData>,
    /// CS_NET.
    pub network: Option<ClientNetworkData<'a>>,
    /// CS_CLUSTER.
    pub cluster: Option<ClientClusterData>,
    /// CS_MONITOR.
    pub monitor: Option<ClientMonitorData>,
    /// CS_MCS_MSGCHANNEL.
    pub message_channel: Option<ClientMessageChannelData>,
    /// CS_MONITOR_EX.
    pub monitor_extended: Option<ClientMonitorExtendedData>,
    /// CS_MULTITRANSPORT.
    pub multitransport: Option<ClientMultitransportData>,
    /// Types of blocks this crate does not decode, in order.
    pub unknown_blocks: Vec<u16>,
    /// Deviations that were tolerated.
    pub anomalies: Vec<&'static str>,
}

/// Parses the client data blocks (the user data of a Conference Create Request).
///
/// Errors: a block header with an impossible length, or a known block too short for its
/// mandatory fields. Unknown block types are skipped and listed; a repeated block keeps the
/// first and records an anomaly; bytes after the fields of a known block are an anomaly.
pub fn parse_client_data(input: &[u8]) -> Result<ClientData<'_>, Error> {
    let mut out = ClientData::default();
    for block in data_blocks(input) {
        let block = block?;
        let mut r = Le {
            input: block.body,
            what: "client data block",
        };
        let duplicate = match block.block_type {
            CS_CORE => {
                r.what = "client core data";
                let v = core(&mut r, &mut out.anomalies)?;
                out.core.replace(v).is_some()
            }
            CS_SECURITY => {
                r.what = "client security data";
                let v = ClientSecurityData {
                    encryption_methods: EncryptionMethods(r.u32()?),
                    ext_encryption_methods: r.u32()?,
                };
                out.security.replace(v).is_some()
            }
            CS_NET => {
                r.what = "client network data";
                let v = network(&mut r)?;
                // rdesktop writes the options big-endian: only low-half bits set.
                if v.channels
                    .iter()
                    .any(|c| c.options.0 != 0 && c.options.0 & 0xffff_0000 == 0)
                {
                    out.anomalies.push("channel options look byte-swapped");
                }
                out.network.replace(v).is_some()
            }
            CS_CLUSTER => {
                r.what = "client cluster data";
                let v = ClientClusterData {
                    flags: ClusterFlags(r.u32()?),
                    redirected_session_id: r.u32()?,
                };
                out.cluster.replace(v).is_some()
            }
            CS_MONITOR => {
                r.what = "client monitor data";
                let v = monitor(&mut r)?;
                out.monitor.replace(v).is_some()
            }
            CS_MCS_MSGCHANNEL => {
                r.what = "client message channel data";
                let v = ClientMessageChannelData { flags: r.u32()? };
                out.message_channel.replace(v).is_some()
            }
            CS_MONITOR_EX => {
                r.what = "client monitor extended data";
                let v = monitor_ex(&mut r)?;
                out.monitor_extended.replace(v).is_some()
            }
            CS_MULTITRANSPORT => {
                r.what = "client multitransport data";
                let v = ClientMultitransportData { flags: r.u32()? };
                out.multitransport.replace(v).is_some()
            }
            other => {
                out.unknown_blocks.push(other);
                r.input = &[];
                false
            }
        };
        if duplicate {
            out.anomalies.push("repeated client data block");
        }
        if !r.input.is_empty() {
            out.anomalies
                .push("bytes after the fields of a client data block");
        }
    }
    Ok(out)
}

fn core<'a>(
    r: &mut Le<'a>,
    anomalies: &mut Vec<&'static str>,
) -> Result<ClientCoreData<'a>, Error> {
    let version = RdpVersion(r.u32()?);
    let desktop_width = r.u16()?;
    let desktop_height = r.u16()?;
    let color_depth = r.u16()?;
    let sas_sequence = r.u16()?;
    let keyboard_layout = r.u32()?;
    let client_build = r.u32()?;
    let client_name = r.take(32)?;
    let keyboard_type = r.u32()?;
    let keyboard_sub_type = r.u32()?;
    let keyboard_function_key = r.u32()?;
    let ime_file_name = r.take(64)?;
    let u16_of = |b: &[u8]| {
        u16::from_le_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ])
    };
    let u32_of = |b: &[u8]| {
        u32::from_le_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
            b.get(2).copied().unwrap_or(0),
            b.get(3).copied().unwrap_or(0),
        ])
    };
    // Each optional field exists only if every earlier one does (MS-RDPBCGR 2.2.1.3.2).
    let post_beta2_color_depth = r.optional(2, anomalies).map(u16_of);
    let client_product_id = r.optional(2, anomalies).map(u16_of);
    let serial_number = r.optional(4, anomalies).map(u32_of);
    let high_color_depth = r.optional(2, anomalies).map(u16_of);
    let supported_color_depths = r
        .optional(2, anomalies)
        .map(u16_of)
        .map(SupportedColorDepths);
    let early_capability_flags = r
        .optional(2, anomalies)
        .map(u16_of)
        .map(EarlyCapabilityFlags);
    let client_dig_product_id = r.optional(64, anomalies);
    let connection_type = r
        .optional(1, anomalies)
        .and_then(|b| b.first().copied())
        .map(ConnectionType);
    let pad1octet = r.optional(1, anomalies).and_then(|b| b.first().copied());
    let server_selected_protocol = r.optional(4, anomalies).map(u32_of);
    let desktop_physical_width = r.optional(4, anomalies).map(u32_of);
    let desktop_physical_height = r.optional(4, anomalies).map(u32_of);
    let desktop_orientation = r.optional(2, anomalies).map(u16_of);
    let desktop_scale_factor = r.optional(4, anomalies).map(u32_of);
    let device_scale_factor = r.optional(4, anomalies).map(u32_of);
    Ok(ClientCoreData {
        version,
        desktop_width,
        desktop_height,
        color_depth,
        sas_sequence,
        keyboard_layout,
        client_build,
        client_name,
        keyboard_type,
        keyboard_sub_type,
        keyboard_function_key,
        ime_file_name,
        post_beta2_color_depth,
        client_product_id,
        serial_number,
        high_color_depth,
        supported_color_depths,
        early_capability_flags,
        client_dig_product_id,
        connection_type,
        pad1octet,
        server_selected_protocol,
        desktop_physical_width,
        desktop_physical_height,
        desktop_orientation,
        desktop_scale_factor,
        device_scale_factor,
    })
}

/// Checks that `count` records of `size` bytes fit in what is left, before allocating.
fn records(r: &Le<'_>, count: u32, size: usize) -> Result<usize, Error> {
    let count = usize::try_from(count).map_err(|_| Error::InvalidLength {
        what: r.what,
        length: usize::MAX,
    })?;
    match count.checked_mul(size) {
        Some(total) if total <= r.input.len() => Ok(count),
        _ => Err(Error::InvalidLength {
            what: r.what,
            length: count,
        }),
    }
}

fn network<'a>(r: &mut Le<'a>) -> Result<ClientNetworkData<'a>, Error> {
    let channel_count = r.u32()?;
    let n = records(r, channel_count, 12)?;
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.take(8)?;
        let options = ChannelOptions(r.u32()?);
        channels.push(StaticChannel { name, options });
    }
    Ok(ClientNetworkData {
        channel_count,
        channels,
    })
}

fn monitor(r: &mut Le<'_>) -> Result<ClientMonitorData, Error> {
    let flags = r.u32()?;
    let count = r.u32()?;
    let n = records(r, count, 20)?;
    let mut monitors = Vec::with_capacity(n);
    for _ in 0..n {
        monitors.push(MonitorDef {
            left: i32::from_le_bytes(r.array()?),
            top: i32::from_le_bytes(r.array()?),
            right: i32::from_le_bytes(r.array()?),
            bottom: i32::from_le_bytes(r.array()?),
            flags: r.u32()?,
        });
    }
    Ok(ClientMonitorData { flags, monitors })
}

fn monitor_ex(r: &mut Le<'_>) -> Result<ClientMonitorExtendedData, Error> {
    let flags = r.u32()?;
    let monitor_attribute_size = r.u32()?;
    if monitor_attribute_size != 20 {
        return Err(Error::InvalidLength {
            what: "client monitor attributes",
            length: usize::try_from(monitor_attribute_size).unwrap_or(usize::MAX),
        });
    }
    let count = r.u32()?;
    let n = records(r, count, 20)?;
    let mut monitors = Vec::with_capacity(n);
    for _ in 0..n {
        monitors.push(MonitorAttributes {
            physical_width: r.u32()?,
            physical_height: r.u32()?,
            orientation: r.u32()?,
            desktop_scale_factor: r.u32()?,
            device_scale_factor: r.u32()?,
        });
    }
    Ok(ClientMonitorExtendedData {
        flags,
        monitor_attribute_size,
        monitors,
    })
}
