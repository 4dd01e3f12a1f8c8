//! Name tables for values seen in the RDP connection sequence: keyboard layouts, client build
//! numbers, RDP version words, encryption methods and levels, and static channel options.
//!
//! Tables are open: a value without a name is reported by number, never rejected.

mod builds;
mod keyboard;

pub use builds::client_build_name;
pub use keyboard::{keyboard_language_name, keyboard_layout_name};

use crate::values::{open_enum, open_flags};

open_enum! {
    /// The RDP version word of the Client Core Data and Server Core Data `version` field
    /// (MS-RDPBCGR 2.2.1.3.2 and 2.2.1.4.2): major version in the high 16 bits (always 8),
    /// minor in the low 16 bits.
    pub struct RdpVersion(u32) {
        /// RDP 4.0 clients.
        RDP_4_0 = 0x0008_0001 => "RDP 4.0",
        /// RDP 5.0, 5.1, 5.2, 6.0, 6.1, 7.0, 7.1, 8.0 and 8.1 clients.
        RDP_5_PLUS = 0x0008_0004 => "RDP 5.0+",
        /// RDP 10.0.
        RDP_10_0 = 0x0008_0005 => "RDP 10.0",
        /// RDP 10.1.
        RDP_10_1 = 0x0008_0006 => "RDP 10.1",
        /// RDP 10.2.
        RDP_10_2 = 0x0008_0007 => "RDP 10.2",
        /// RDP 10.3.
        RDP_10_3 = 0x0008_0008 => "RDP 10.3",
        /// RDP 10.4.
        RDP_10_4 = 0x0008_0009 => "RDP 10.4",
        /// RDP 10.5.
        RDP_10_5 = 0x0008_000A => "RDP 10.5",
        /// RDP 10.6.
        RDP_10_6 = 0x0008_000B => "RDP 10.6",
        /// RDP 10.7.
        RDP_10_7 = 0x0008_000C => "RDP 10.7",
        /// RDP 10.8.
        RDP_10_8 = 0x0008_000D => "RDP 10.8",
        /// RDP 10.9.
        RDP_10_9 = 0x0008_000E => "RDP 10.9",
        /// RDP 10.10.
        RDP_10_10 = 0x0008_000F => "RDP 10.10",
        /// RDP 10.11.
        RDP_10_11 = 0x0008_0010 => "RDP 10.11",
        /// RDP 10.12.
        RDP_10_12 = 0x0008_0011 => "RDP 10.12",
    }
}

open_flags! {
    /// Encryption methods (MS-RDPBCGR 2.2.1.3.3 `encryptionMethods`, 2.2.1.4.3
    /// `encryptionMethod`): a set offered by the client, a single value chosen by the server.
    /// No bit set means ENCRYPTION_METHOD_NONE.
    pub struct EncryptionMethods(u32) {
        /// ENCRYPTION_METHOD_NONE (no bit set).
        NONE = 0x0000_0000 => "NONE",
        /// ENCRYPTION_METHOD_40BIT: RC4 with a 40-bit key.
        BIT40 = 0x0000_0001 => "40BIT",
        /// ENCRYPTION_METHOD_128BIT: RC4 with a 128-bit key.
        BIT128 = 0x0000_0002 => "128BIT",
        /// ENCRYPTION_METHOD_56BIT: RC4 with a 56-bit key.
        BIT56 = 0x0000_0008 => "56BIT",
        /// ENCRYPTION_METHOD_FIPS: 3DES with SHA-1 MACs (FIPS 140-1).
        FIPS = 0x0000_0010 => "FIPS",
    }
}

open_enum! {
    /// Server encryption level (MS-RDPBCGR 2.2.1.4.3 `encryptionLevel`).
    pub struct EncryptionLevel(u32) {
        /// ENCRYPTION_LEVEL_NONE.
        NONE = 0 => "NONE",
        /// ENCRYPTION_LEVEL_LOW: only client-to-server data is encrypted.
        LOW = 1 => "LOW",
        /// ENCRYPTION_LEVEL_CLIENT_COMPATIBLE.
        CLIENT_COMPATIBLE = 2 => "CLIENT_COMPATIBLE",
        /// ENCRYPTION_LEVEL_HIGH.
        HIGH = 3 => "HIGH",
        /// ENCRYPTION_LEVEL_FIPS.
        FIPS = 4 => "FIPS",
    }
}

open_flags! {
    /// Static virtual channel options (MS-RDPBCGR 2.2.1.3.4.1 CHANNEL_DEF `options`).
    pub struct ChannelOptions(u32) {
        /// CHANNEL_OPTION_INITIALIZED.
        INITIALIZED = 0x8000_0000 => "INITIALIZED",
        /// CHANNEL_OPTION_ENCRYPT_RDP.
        ENCRYPT_RDP = 0x4000_0000 => "ENCRYPT_RDP",
        /// CHANNEL_OPTION_ENCRYPT_SC.
        ENCRYPT_SC = 0x2000_0000 => "ENCRYPT_SC",
        /// CHANNEL_OPTION_ENCRYPT_CS.
        ENCRYPT_CS = 0x1000_0000 => "ENCRYPT_CS",
        /// CHANNEL_OPTION_PRI_HIGH.
        PRI_HIGH = 0x0800_0000 => "PRI_HIGH",
        /// CHANNEL_OPTION_PRI_MED.
        PRI_MED = 0x0400_0000 => "PRI_MED",
        /// CHANNEL_OPTION_PRI_LOW.
        PRI_LOW = 0x0200_0000 => "PRI_LOW",
        /// CHANNEL_OPTION_COMPRESS_RDP.
        COMPRESS_RDP = 0x0080_0000 => "COMPRESS_RDP",
        /// CHANNEL_OPTION_COMPRESS.
        COMPRESS = 0x0040_0000 => "COMPRESS",
        /// CHANNEL_OPTION_SHOW_PROTOCOL.
        SHOW_PROTOCOL = 0x0020_0000 => "SHOW_PROTOCOL",
        /// REMOTE_CONTROL_PERSISTENT.
        REMOTE_CONTROL_PERSISTENT = 0x0010_0000 => "REMOTE_CONTROL_PERSISTENT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(RdpVersion(0x0008_0001).to_string(), "RDP 4.0");
        assert_eq!(RdpVersion(0x0008_0004).to_string(), "RDP 5.0+");
        assert_eq!(RdpVersion(0x0008_0005).to_string(), "RDP 10.0");
        assert_eq!(RdpVersion(0x0008_0011).to_string(), "RDP 10.12");
        assert_eq!(RdpVersion(0x0008_0099).to_string(), "0x00080099");
    }

    #[test]
    fn encryption() {
        assert_eq!(
            EncryptionMethods(0x1b).to_string(),
            "40BIT|128BIT|56BIT|FIPS"
        );
        assert_eq!(EncryptionMethods(0x02).to_string(), "128BIT");
        assert_eq!(EncryptionMethods(0x0).to_string(), "0");
        assert_eq!(EncryptionMethods(0x21).to_string(), "40BIT|0x20");
        assert_eq!(EncryptionLevel(2).to_string(), "CLIENT_COMPATIBLE");
        assert_eq!(EncryptionLevel(4).to_string(), "FIPS");
        assert_eq!(EncryptionLevel(7).to_string(), "0x00000007");
    }

    #[test]
    fn channel_options() {
        assert_eq!(
            ChannelOptions(0x8080_0000).to_string(),
            "INITIALIZED|COMPRESS_RDP"
        );
        assert_eq!(
            ChannelOptions(0xc0a0_0000).to_string(),
            "INITIALIZED|ENCRYPT_RDP|COMPRESS_RDP|SHOW_PROTOCOL"
        );
    }

    #[test]
    fn tables() {
        assert_eq!(
            keyboard_layout_name(0x0409),
            Some("English (United States)")
        );
        assert_eq!(keyboard_layout_name(0x0407), Some("German (Germany)"));
        assert_eq!(keyboard_layout_name(0x040c), Some("French (France)"));
        assert_eq!(
            keyboard_layout_name(0x0809),
            Some("English (United Kingdom)")
        );
        assert_eq!(keyboard_layout_name(0x0411), Some("Japanese"));
        assert_eq!(keyboard_layout_name(0x0004_041E), None);
        assert_eq!(keyboard_language_name(0x0004_041E), Some("Thai"));
        assert_eq!(client_build_name(2600), Some("Windows XP"));
        assert_eq!(client_build_name(7601), Some("Windows 7 SP1"));
        assert_eq!(client_build_name(9600), Some("Windows 8.1"));
        assert_eq!(client_build_name(22621), Some("Windows 11 22H2"));
        assert_eq!(client_build_name(1), None);
    }
}
