//! Client build numbers (MS-RDPBCGR 2.2.1.3.2 `clientBuild`) to the Windows release that ships
//! that build. Non-Windows clients put arbitrary numbers here (rdesktop and xfreerdp send 2600 or
//! a Windows build they imitate), so the name says what the client claims, not what it is.

/// Known builds, sorted for binary search.
static BUILDS: &[(u32, &str)] = &[
    (419, "RDP 4.0 (Windows NT 4.0 Terminal Server)"),
    (2195, "Windows 2000"),
    (2221, "Windows 2000 (RDP 5.0 client)"),
    (2600, "Windows XP"),
    (3790, "Windows Server 2003"),
    (6000, "Windows Vista"),
    (6001, "Windows Vista SP1"),
    (6002, "Windows Vista SP2"),
    (7600, "Windows 7"),
    (7601, "Windows 7 SP1"),
    (9200, "Windows 8"),
    (9600, "Windows 8.1"),
    (10240, "Windows 10 1507"),
    (10586, "Windows 10 1511"),
    (14393, "Windows 10 1607"),
    (15063, "Windows 10 1703"),
    (16299, "Windows 10 1709"),
    (17134, "Windows 10 1803"),
    (17763, "Windows 10 1809"),
    (18362, "Windows 10 1903"),
    (18363, "Windows 10 1909"),
    (19041, "Windows 10 2004"),
    (19042, "Windows 10 20H2"),
    (19043, "Windows 10 21H1"),
    (19044, "Windows 10 21H2"),
    (19045, "Windows 10 22H2"),
    (20348, "Windows Server 2022"),
    (22000, "Windows 11 21H2"),
    (22621, "Windows 11 22H2"),
    (22631, "Windows 11 23H2"),
    (26100, "Windows 11 24H2"),
    (26200, "Windows 11 25H2"),
];

/// The Windows release for client build `build`, or `None` when it is not in the table.
pub fn client_build_name(build: u32) -> Option<&'static str> {
    BUILDS
        .binary_search_by_key(&build, |(k, _)| *k)
        .ok()
        .and_then(|i| BUILDS.get(i))
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::BUILDS;

    #[test]
    fn sorted_and_unique() {
        assert!(BUILDS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
