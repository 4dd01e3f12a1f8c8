//! Client data blocks of the GCC Conference Create Request (MS-RDPBCGR 2.2.1.3.2 to 2.2.1.3.9).

use crate::Saturate as _;
use nom::bytes::complete::take;
use nom::number::complete::{le_i32, le_u16, le_u32, u8 as byte};
use nom::Parser;

use super::{ansi_fixed, data_blocks, optional, utf16_fixed};
use crate::names::{ChannelOptions, EncryptionMethods, RdpVersion};
use crate::parse::{bounded, fail, usize_of, PResult};
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
        ((self.0 & 0x3c) >> 2).saturate()
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
        let body = block.body;
        let (rest, duplicate) = match block.block_type {
            CS_CORE => {
                let anomalies = &mut out.anomalies;
                let (rest, v) = bounded("client core data", body, |i| core(i, anomalies))?;
                (rest, out.core.replace(v).is_some())
            }
            CS_SECURITY => {
                let (rest, (methods, ext)) =
                    bounded("client security data", body, (le_u32, le_u32))?;
                let v = ClientSecurityData {
                    encryption_methods: EncryptionMethods(methods),
                    ext_encryption_methods: ext,
                };
                (rest, out.security.replace(v).is_some())
            }
            CS_NET => {
                let (rest, v) = bounded("client network data", body, network)?;
                // rdesktop writes the options big-endian: only low-half bits set.
                if v.channels
                    .iter()
                    .any(|c| c.options.0 != 0 && c.options.0 & 0xffff_0000 == 0)
                {
                    out.anomalies.push("channel options look byte-swapped");
                }
                (rest, out.network.replace(v).is_some())
            }
            CS_CLUSTER => {
                let (rest, (flags, session)) =
                    bounded("client cluster data", body, (le_u32, le_u32))?;
                let v = ClientClusterData {
                    flags: ClusterFlags(flags),
                    redirected_session_id: session,
                };
                (rest, out.cluster.replace(v).is_some())
            }
            CS_MONITOR => {
                let (rest, v) = bounded("client monitor data", body, monitor)?;
                (rest, out.monitor.replace(v).is_some())
            }
            CS_MCS_MSGCHANNEL => {
                let (rest, flags) = bounded("client message channel data", body, le_u32)?;
                let v = ClientMessageChannelData { flags };
                (rest, out.message_channel.replace(v).is_some())
            }
            CS_MONITOR_EX => {
                let (rest, v) = bounded("client monitor extended data", body, monitor_ex)?;
                (rest, out.monitor_extended.replace(v).is_some())
            }
            CS_MULTITRANSPORT => {
                let (rest, flags) = bounded("client multitransport data", body, le_u32)?;
                let v = ClientMultitransportData { flags };
                (rest, out.multitransport.replace(v).is_some())
            }
            other => {
                out.unknown_blocks.push(other);
                (&[][..], false)
            }
        };
        if duplicate {
            out.anomalies.push("repeated client data block");
        }
        if !rest.is_empty() {
            out.anomalies
                .push("bytes after the fields of a client data block");
        }
    }
    Ok(out)
}

/// TS_UD_CS_CORE (MS-RDPBCGR 2.2.1.3.2): the mandatory fields, then the optional ones.
fn core<'a>(i: &'a [u8], anomalies: &mut Vec<&'static str>) -> PResult<'a, ClientCoreData<'a>> {
    let (i, (version, desktop_width, desktop_height, color_depth, sas_sequence)) =
        (le_u32, le_u16, le_u16, le_u16, le_u16).parse(i)?;
    let (i, (keyboard_layout, client_build, client_name)) =
        (le_u32, le_u32, take(32usize)).parse(i)?;
    let (i, (keyboard_type, keyboard_sub_type, keyboard_function_key, ime_file_name)) =
        (le_u32, le_u32, le_u32, take(64usize)).parse(i)?;
    // Each optional field exists only if every earlier one does (MS-RDPBCGR 2.2.1.3.2).
    let (i, post_beta2_color_depth) = optional(i, le_u16, anomalies);
    let (i, client_product_id) = optional(i, le_u16, anomalies);
    let (i, serial_number) = optional(i, le_u32, anomalies);
    let (i, high_color_depth) = optional(i, le_u16, anomalies);
    let (i, supported_color_depths) = optional(i, le_u16, anomalies);
    let (i, early_capability_flags) = optional(i, le_u16, anomalies);
    let (i, client_dig_product_id) = optional(i, take(64usize), anomalies);
    let (i, connection_type) = optional(i, byte, anomalies);
    let (i, pad1octet) = optional(i, byte, anomalies);
    let (i, server_selected_protocol) = optional(i, le_u32, anomalies);
    let (i, desktop_physical_width) = optional(i, le_u32, anomalies);
    let (i, desktop_physical_height) = optional(i, le_u32, anomalies);
    let (i, desktop_orientation) = optional(i, le_u16, anomalies);
    let (i, desktop_scale_factor) = optional(i, le_u32, anomalies);
    let (i, device_scale_factor) = optional(i, le_u32, anomalies);
    Ok((
        i,
        ClientCoreData {
            version: RdpVersion(version),
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
            supported_color_depths: supported_color_depths.map(SupportedColorDepths),
            early_capability_flags: early_capability_flags.map(EarlyCapabilityFlags),
            client_dig_product_id,
            connection_type: connection_type.map(ConnectionType),
            pad1octet,
            server_selected_protocol,
            desktop_physical_width,
            desktop_physical_height,
            desktop_orientation,
            desktop_scale_factor,
            device_scale_factor,
        },
    ))
}

/// Checks that `count` records of `size` bytes fit in `input`, before allocating.
fn records(
    what: &'static str,
    input: &[u8],
    count: u32,
    size: usize,
) -> Result<usize, nom::Err<Error>> {
    let n = usize_of(count);
    match n.checked_mul(size) {
        Some(total) if total <= input.len() => Ok(n),
        _ => fail(Error::InvalidLength { what, length: n }),
    }
}

/// TS_UD_CS_NET (MS-RDPBCGR 2.2.1.3.4): channelCount, then that many CHANNEL_DEF.
fn network(i: &[u8]) -> PResult<'_, ClientNetworkData<'_>> {
    let (mut i, channel_count) = le_u32(i)?;
    let n = records("client network data", i, channel_count, 12)?;
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        let (rest, (name, options)) = (take(8usize), le_u32).parse(i)?;
        channels.push(StaticChannel {
            name,
            options: ChannelOptions(options),
        });
        i = rest;
    }
    Ok((
        i,
        ClientNetworkData {
            channel_count,
            channels,
        },
    ))
}

/// TS_UD_CS_MONITOR (MS-RDPBCGR 2.2.1.3.6): flags, monitorCount, then TS_MONITOR_DEFs.
fn monitor(i: &[u8]) -> PResult<'_, ClientMonitorData> {
    let (mut i, (flags, count)) = (le_u32, le_u32).parse(i)?;
    let n = records("client monitor data", i, count, 20)?;
    let mut monitors = Vec::with_capacity(n);
    for _ in 0..n {
        let (rest, (left, top, right, bottom, flags)) =
            (le_i32, le_i32, le_i32, le_i32, le_u32).parse(i)?;
        monitors.push(MonitorDef {
            left,
            top,
            right,
            bottom,
            flags,
        });
        i = rest;
    }
    Ok((i, ClientMonitorData { flags, monitors }))
}

/// TS_UD_CS_MONITOR_EX (MS-RDPBCGR 2.2.1.3.9): flags, monitorAttributeSize (20),
/// monitorCount, then TS_MONITOR_ATTRIBUTES.
fn monitor_ex(i: &[u8]) -> PResult<'_, ClientMonitorExtendedData> {
    let (i, (flags, monitor_attribute_size)) = (le_u32, le_u32).parse(i)?;
    if monitor_attribute_size != 20 {
        return fail(Error::InvalidLength {
            what: "client monitor attributes",
            length: usize_of(monitor_attribute_size),
        });
    }
    let (mut i, count) = le_u32(i)?;
    let n = records("client monitor extended data", i, count, 20)?;
    let mut monitors = Vec::with_capacity(n);
    for _ in 0..n {
        let (rest, (physical_width, physical_height, orientation, desktop_scale, device_scale)) =
            (le_u32, le_u32, le_u32, le_u32, le_u32).parse(i)?;
        monitors.push(MonitorAttributes {
            physical_width,
            physical_height,
            orientation,
            desktop_scale_factor: desktop_scale,
            device_scale_factor: device_scale,
        });
        i = rest;
    }
    Ok((
        i,
        ClientMonitorExtendedData {
            flags,
            monitor_attribute_size,
            monitors,
        },
    ))
}
