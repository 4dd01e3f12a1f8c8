//! Long explanations of every verdict and finding code, for `rdp-pcap explain [CODE]`.
//!
//! Reports name a connection's outcome with one verdict code and its weaknesses with finding
//! codes; this module says, for each code, what the capture shows, why it usually happens, what
//! Windows logs for it and how to fix it. The text is static data written for Windows and
//! xrdp/FreeRDP administrators: registry values with full paths, GPO paths, commands. Rendering
//! only wraps and indents it.
//!
//! The order of [`all`] is the order of the listing: verdicts (from a working connection down the
//! connection sequence to the failures), then per-connection findings, then findings that need
//! several connections.

use std::io::{self, Write};

/// Which kind of code an [`Explanation`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// Exactly one per connection: what happened.
    Verdict,
    /// Zero or more per connection: a weakness or an oddity.
    Finding,
    /// Reported across the connections of a capture (a pattern, not one connection).
    CaptureFinding,
}

impl CodeKind {
    /// `"verdict"`, `"finding"` or `"capture finding"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Verdict => "verdict",
            CodeKind::Finding => "finding",
            CodeKind::CaptureFinding => "capture finding",
        }
    }

    /// The heading the list groups this kind under.
    pub fn heading(self) -> &'static str {
        match self {
            CodeKind::Verdict => "Verdicts",
            CodeKind::Finding => "Findings",
            CodeKind::CaptureFinding => "Capture findings",
        }
    }
}

/// Everything `rdp-pcap explain CODE` says about one code.
#[derive(Debug)]
pub struct Explanation {
    /// The code as reports print it, e.g. `tls-cipher-mismatch`.
    pub code: &'static str,
    /// Verdict, finding or capture finding.
    pub kind: CodeKind,
    /// `"info"`, `"warning"` or `"error"`, as in the reports.
    pub severity: &'static str,
    /// One line, under 80 characters, no trailing period.
    pub title: &'static str,
    /// What the capture shows, as an analyst would describe the packets.
    pub on_the_wire: &'static str,
    /// Usual causes, most likely first.
    pub causes: &'static [&'static str],
    /// What Windows logs for it (log, source, event ID and the gist); empty when nothing is.
    pub windows_logs: &'static [&'static str],
    /// Concrete fixes: registry values, GPO paths, commands, xrdp/FreeRDP settings. `{server}`
    /// and `{port}` stand for the connection's server address and port (see `fix.rs`); the
    /// negotiation-failure fixes start with `Code N: `, one per failure code.
    pub fixes: &'static [&'static str],
    /// Related codes.
    pub see_also: &'static [&'static str],
}

// Paths repeated across entries, spelled once so they cannot drift apart.
macro_rules! rdp_tcp {
    () => {
        r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp"
    };
}
macro_rules! ts_policy {
    () => {
        r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
    };
}
macro_rules! schannel {
    () => {
        r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
    };
}
macro_rules! rdsh_security {
    () => {
        "Computer Configuration > Administrative Templates > Windows Components > Remote Desktop \
         Services > Remote Desktop Session Host > Security"
    };
}
macro_rules! set_cert_hash {
    () => {
        r#"`wmic /namespace:\\root\cimv2\TerminalServices PATH Win32_TSGeneralSetting Set SSLCertificateSHA1Hash="THUMBPRINT"`"#
    };
}
macro_rules! machine_keys {
    () => {
        r"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys"
    };
}
macro_rules! cipher_order_gpo {
    () => {
        "Computer Configuration > Administrative Templates > Network > SSL Configuration \
         Settings > SSL Cipher Suite Order"
    };
}

static ALL: &[Explanation] = &[
    // ---------------------------------------------------------------- verdicts
    Explanation {
        code: "established",
        kind: CodeKind::Verdict,
        severity: "info",
        title: "Connection set up; it carried a session or ended normally",
        on_the_wire: "The whole connection sequence is there: X.224 Connection Request and \
            Confirm, the selected security layer set up (TLS handshake finished, CredSSP \
            completed when NLA was selected, or the Standard RDP Security exchange), then MCS \
            Connect Initial/Response, channel joins, Client Info and licensing - or, under TLS, \
            enough encrypted data both ways to account for them - followed by session traffic. \
            The connection closed in an orderly way (close_notify, FIN) or was still open when \
            the capture ended. Nothing in the setup failed; findings listed with it are about how \
            safe the connection was, not whether it worked.",
        causes: &[
            "A working connection: client and server agreed on a security protocol, \
             authenticated where required and finished the connection sequence.",
            "A session that opened and then ended because the user logged off or disconnected, \
             or a session policy (idle or active time limits) ended it: the network shows no \
             fault, and the reason is in the session logs.",
        ],
        windows_logs: &[
            "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational 1149 - \
             'Remote Desktop Services: User authentication succeeded' (with NLA, logged after \
             CredSSP succeeded; without NLA it only means a connection arrived)",
            "Security 4624 - logon type 10 (RemoteInteractive) for the session; with NLA a \
             network logon (type 3) comes first",
            "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational 21 (session \
             logon succeeded), 22 (shell start), 25 (reconnection), 24 (disconnected), 23 \
             (logoff), 40 (disconnected, with a reason code)",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 131 - 'The server \
             accepted a new TCP connection from client IP:port'; 102 and 103 when the server \
             ends the connection, with the disconnect reason",
        ],
        fixes: &[
            "Nothing to fix in the connection setup. If the user still reports a failure, it \
             happened inside the session: read the reason code of LocalSessionManager 40 on the \
             server and of Microsoft-Windows-TerminalServices-RDPClient/Operational 1026 \
             ('RDP ClientActiveX has been disconnected (Reason= N)') on the client.",
            "Review the findings listed with the connection: a working connection can still be \
             weak (Standard RDP Security, no NLA, old TLS, an expired or self-signed \
             certificate).",
        ],
        see_also: &["closed-early", "incomplete"],
    },
    Explanation {
        code: "tcp-refused",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "TCP connection refused: the SYN was answered by RST",
        on_the_wire: "The client's SYN to the RDP port got a RST/ACK instead of a SYN/ACK, \
            usually within one round trip; clients retry, so several short SYN -> RST pairs \
            from the same client are common. No RDP byte was exchanged. The addressed host's \
            TCP stack sends this RST when no socket listens on the port, but firewalls and load \
            balancers set to reject (rather than drop) send one too: compare the IP TTL of the \
            RST with other packets from that host to tell them apart.",
        causes: &[
            concat!(
                "Remote Desktop is disabled: fDenyTSConnections = 1 under ",
                r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server",
                " (System Properties > Remote, or the GPO 'Allow users to connect remotely by \
                 using Remote Desktop Services' set to Disabled)."
            ),
            "The Remote Desktop Services service (TermService) is stopped, crashed, or hangs \
             in startup, so nothing listens.",
            concat!(
                "RDP listens on another port: PortNumber under ",
                rdp_tcp!(),
                " was changed and the client still uses 3389, or the reverse."
            ),
            "The listener is bound to one network adapter (LanAdapter under RDP-Tcp is not 0) \
             and the connection arrived on another.",
            "A NAT or port-forward rule points at the wrong internal host or port, or a firewall \
             or load balancer rejects with RST (iptables REJECT --reject-with tcp-reset, \
             'reset' actions on next-generation firewalls, a load balancer with no healthy \
             backend).",
            "xrdp is not running or listens elsewhere (port= in /etc/xrdp/xrdp.ini).",
        ],
        windows_logs: &[
            "Nothing from the RDP components for the connection itself: it never reached a \
             listener",
            "System: Service Control Manager 7036 - 'The Remote Desktop Services service \
             entered the stopped state', or 7031/7034 - 'terminated unexpectedly'",
            "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational 259 - \
             'Listener RDP-Tcp has stopped listening'",
        ],
        fixes: &[
            "See what listens on the server: `Get-NetTCPConnection -LocalPort {port} -State \
             Listen`, then `tasklist /svc /fi \"PID eq <OwningProcess>\"` should show \
             TermService; `qwinsta` should list rdp-tcp in state Listen.",
            r"Enable RDP: `Set-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server' -Name fDenyTSConnections -Value 0`, then `Start-Service TermService` (or System Properties > Remote).",
            concat!(
                "Check the port: `reg query \"",
                rdp_tcp!(),
                "\" /v PortNumber`; restart TermService after changing it, and open the same port \
                 in the firewall."
            ),
            "From the client, `Test-NetConnection {server} -Port {port}` reports TcpTestSucceeded \
             False for both refused and filtered ports; the capture tells them apart (a RST \
             here).",
            "Check NAT/port-forward rules and load-balancer backend health; for xrdp, \
             `systemctl status xrdp` and `ss -ltnp | grep :{port}`.",
        ],
        see_also: &["tcp-unanswered", "nonstandard-port"],
    },
    Explanation {
        code: "tcp-unanswered",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "SYNs without any answer: port filtered or host unreachable",
        on_the_wire: "Only the client's SYNs are seen, retransmitted at growing intervals, \
            with no SYN/ACK, RST or ICMP from the server side. The packets are dropped on the \
            way or at the host, the host is down, or the answer travels a path the capture \
            point does not see (asymmetric routing). An ICMP destination-unreachable in the \
            capture names the router that gave up.",
        causes: &[
            "Windows Defender Firewall drops it: the 'Remote Desktop - User Mode (TCP-In)' rule \
             is disabled, or enabled only for the Domain profile while the adapter is in the \
             Public or Private profile.",
            "A network firewall, cloud security group / NSG, or ISP filter drops TCP 3389.",
            "The host is off, or the name resolves to a stale or wrong address (old DNS record, \
             wrong VPN route).",
            "The SYN/ACK leaves by another route than the captured one (several NICs, split \
             tunnel, asymmetric routing).",
            "An IPS or rate limiter drops new connections from this client, for example after \
             a brute-force alarm.",
        ],
        windows_logs: &[
            "Security 5152 ('The Windows Filtering Platform has blocked a packet') or 5157 \
             ('...has blocked a connection'), only when 'Audit Filtering Platform Packet Drop' \
             / 'Audit Filtering Platform Connection' are enabled",
            r"Windows Firewall log (%windir%\System32\LogFiles\Firewall\pfirewall.log): DROP TCP lines for the port, when 'Log dropped packets' is on for the profile",
        ],
        fixes: &[
            "`Enable-NetFirewallRule -DisplayGroup \"Remote Desktop\"` (or `netsh advfirewall \
             firewall set rule group=\"remote desktop\" new enable=Yes`); check the adapter's \
             profile with `Get-NetConnectionProfile`.",
            "`Test-NetConnection {server} -Port {port}` from the client and from a host next to the \
             server; `Test-NetConnection {server} -TraceRoute` to see where the path stops.",
            "Capture on the server itself: if the SYN arrives and a SYN/ACK leaves, look for \
             asymmetric routing; if it never arrives, the drop is in the path (security \
             groups, edge firewall).",
            "Check name resolution: `Resolve-DnsName host` against the server's real address.",
        ],
        see_also: &["tcp-refused", "nonstandard-port"],
    },
    Explanation {
        code: "not-rdp",
        kind: CodeKind::Verdict,
        severity: "warning",
        title: "Client did not send an X.224 Connection Request",
        on_the_wire: "The client's first bytes are not a TPKT header (version 3) carrying an \
            X.224 Connection Request (TPDU code 0xE0). Typical first bytes instead: an HTTP \
            request line ('GET / HTTP/1.1'), a TLS ClientHello (0x16 0x03 ...) sent straight \
            away, an SSH client banner ('SSH-2.0-...'), a PROXY protocol header ('PROXY TCP4 \
            ...' or the binary v2 signature), or random bytes from a scanner or fuzzer. The \
            server normally closes or resets the connection once it has read them.",
        causes: &[
            "A scanner or fuzzer probing the port (service detection, Internet-wide scanners, \
             vulnerability scanners).",
            "The wrong client for the port: a browser pointed at http://host:3389, an SSH \
             client, a tool configured for another service.",
            "A load balancer or reverse proxy that prepends a PROXY protocol header or runs \
             HTTP health checks against the RDP port.",
            "A client using the Direct Approach (MS-RDPBCGR 5.4.2.2), which starts TLS/CredSSP \
             without the X.224 exchange, or a TLS-terminating proxy in front of RDP.",
            "RDP carried inside another transport on this port (RD Gateway over HTTPS, a VPN): \
             the RDP inside cannot be seen.",
        ],
        windows_logs: &[
            "System: TermDD 50 - 'The RDP protocol component X.224 detected an error in the \
             protocol stream and has disconnected the client' (typical for scanners and non-RDP \
             clients)",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 131 - the TCP \
             connection accepted from the source address, with nothing after it",
        ],
        fixes: &[
            "Identify the source address. If it is a scanner on the Internet, the fix is \
             exposure: allow TCP {port} only from known networks, a VPN or an RD Gateway.",
            "Point the client at the right service and port; RDP clients take host:port \
             (`mstsc /v:{server}:{port}`), not a URL.",
            "Make load-balancer health checks plain TCP connects (or an RDP-aware monitor) and \
             do not send PROXY protocol to RDP backends: neither Windows nor xrdp understands it.",
        ],
        see_also: &["no-negotiation-response", "nonstandard-port"],
    },
    Explanation {
        code: "no-negotiation-response",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "Server accepted TCP but never sent an X.224 Connection Confirm",
        on_the_wire: "The TCP handshake completed and the client sent its X.224 Connection \
            Request (cookie or routing token, RDP_NEG_REQ), but no Connection Confirm came back: \
            the server side closed (FIN or RST) without sending anything, or stayed silent until \
            the client gave up or the capture ended. A healthy Windows or xrdp listener answers \
            a valid request within milliseconds, so silence or an immediate close means \
            something other than the RDP stack holds the port, or the stack is stuck.",
        causes: &[
            "Something other than RDP completes the TCP handshake: a port proxy (netsh \
             interface portproxy) without a reachable backend, a TCP load balancer or firewall \
             SYN proxy whose backend is down, or another program bound to the port.",
            "TermService is hung or its listener is in a bad state (after a failed update, a \
             crash of a worker, resource exhaustion).",
            "The server is flooded with incomplete connections (scanning, brute force) and \
             stops taking new ones.",
            "An IPS, a firewall with RDP inspection or DDoS protection drops the Connection \
             Request after letting the TCP handshake through.",
            "A connection broker or load balancer cannot route the request's token (RD \
             Connection Broker redirection, 'Cookie: msts=' to a host that is gone).",
            "xrdp accepted the connection but its session process failed (see \
             /var/log/xrdp.log).",
        ],
        windows_logs: &[
            "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Admin 1006 - 'The RD \
             Session Host server received large number of incomplete connections. The system \
             may be under attack.'",
            "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational 261 - \
             'Listener RDP-Tcp received a connection': if it is missing for this attempt, the \
             connection never reached TermService",
            "System: TermDD 50 - X.224 protocol error, when the request itself was rejected",
        ],
        fixes: &[
            "`Get-NetTCPConnection -LocalPort {port} -State Listen` and `tasklist /svc /fi \"PID \
             eq <OwningProcess>\"` to see who owns the port; `netsh interface portproxy show \
             all` for forgotten port proxies.",
            "`Restart-Service TermService -Force` (restarts its dependent services too); if it \
             comes back, save the RemoteConnectionManager and RdpCoreTS logs before the next \
             restart.",
            "Test directly against the server's own address to bypass load balancers and \
             inspection; check backend health and RDP inspection profiles on the way.",
            "Capture on the server: if the request arrives and nothing answers, the problem is \
             on the host; if it never arrives, it is in the path.",
            "For xrdp: `journalctl -u xrdp` and /var/log/xrdp.log.",
        ],
        see_also: &["tcp-refused", "not-rdp", "brute-force"],
    },
    Explanation {
        code: "negotiation-failure",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "Server refused the requested security (RDP_NEG_FAILURE)",
        on_the_wire: "The server answered the Connection Request with a Connection Confirm \
            carrying RDP_NEG_FAILURE (type 0x03) instead of RDP_NEG_RSP, and the connection \
            ended right after (the client closes; some servers add an MCS Disconnect Provider \
            Ultimatum). The failureCode says what to change: 1 SSL_REQUIRED_BY_SERVER - the \
            server requires TLS or CredSSP and the client offered only Standard RDP Security \
            (or offered only CredSSP to a server that does TLS only); 2 \
            SSL_NOT_ALLOWED_BY_SERVER - the server only does Standard RDP Security; 3 \
            SSL_CERT_NOT_ON_SERVER - the server should do TLS but has no usable certificate; 4 \
            INCONSISTENT_FLAGS - the requested protocols contradict a security layer already \
            in effect (only possible with the Direct Approach); 5 HYBRID_REQUIRED_BY_SERVER - \
            the server requires NLA (CredSSP) and the client did not offer it; 6 \
            SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER - the server requires TLS with a client \
            certificate. Clients often retry with other protocols, so a failure followed by a \
            second, different request is normal.",
        causes: &[
            concat!(
                "5 HYBRID_REQUIRED_BY_SERVER: NLA is required (UserAuthentication = 1 under ",
                rdp_tcp!(),
                ", or the NLA GPO) and the client did not request PROTOCOL_HYBRID: an old or \
                 thin client without CredSSP, mstsc with 'enablecredsspsupport:i:0' in the .rdp \
                 file, FreeRDP with /sec:tls or /sec:rdp, rdesktop."
            ),
            "1 SSL_REQUIRED_BY_SERVER: the security layer is TLS (SecurityLayer = 2, the GPO \
             'Require use of specific security layer for remote (RDP) connections' = SSL, xrdp \
             security_layer=tls) and the client requested only PROTOCOL_RDP (requestedProtocols \
             0: FreeRDP /sec:rdp, rdesktop's fallback, old clients); or the client requested \
             only CredSSP from a server that does TLS without CredSSP.",
            "3 SSL_CERT_NOT_ON_SERVER: TLS is configured but no certificate can be loaded: \
             SSLCertificateSHA1Hash names a certificate that is gone or has no private key, the \
             self-signed certificate could not be created (MachineKeys permissions), or xrdp's \
             certificate= / key_file= is missing or unreadable.",
            "2 SSL_NOT_ALLOWED_BY_SERVER: the server only does Standard RDP Security \
             (SecurityLayer = 0, xrdp security_layer=rdp) and the client will not use it \
             (FreeRDP /sec:tls or /sec:nla).",
            "4 INCONSISTENT_FLAGS: a client or proxy using the Direct Approach sends an X.224 \
             request whose protocols disagree with the TLS/CredSSP layer it already started; \
             buggy clients and middleboxes.",
            "6 SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: the server wants a TLS client \
             certificate; rare, from third-party servers rather than Windows defaults.",
        ],
        windows_logs: &[
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 131 - the accepted \
             TCP connection; the refusal itself is a normal protocol answer and is usually not \
             logged",
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1057 / 1058 - \
             failed to create / replace the self-signed certificate (code 3)",
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1051 - the \
             configured certificate was not found and the default is used; 1059 - certificate \
             configuration was invalid and reset (code 3)",
            "System: Schannel 36870 - 'A fatal error occurred when attempting to access the TLS \
             server credential private key' (code 3)",
            "Client: mstsc says 'The remote computer requires Network Level Authentication, \
             which your computer does not support' (code 5); FreeRDP logs the failure name \
             (com.freerdp.core.nego)",
        ],
        fixes: &[
            concat!(
                "Code 5: Make the client offer CredSSP (current mstsc without \
                 'enablecredsspsupport:i:0'; FreeRDP /sec:nla or no /sec: option; current \
                 thin-client firmware). Turning NLA off on the server (UserAuthentication = 0 \
                 under RDP-Tcp, or GPO ",
                rdsh_security!(),
                " > 'Require user authentication for remote connections by using Network Level \
                 Authentication' = Disabled) also works but weakens the server; limit it to a \
                 known legacy client."
            ),
            "Code 1: Use a client that does TLS (FreeRDP without /sec:rdp, a current rdesktop). \
             Lowering the server to SecurityLayer = 1 (Negotiate) or 0 re-enables Standard RDP \
             Security and is not recommended.",
            concat!(
                "Code 3: Give the server a usable certificate. Compare `Get-ChildItem \
                 Cert:\\LocalMachine\\My` with the thumbprint in SSLCertificateSHA1Hash under ",
                rdp_tcp!(),
                ", bind a valid one with ",
                set_cert_hash!(),
                ", or delete the value and restart TermService to fall back to a new \
                 self-signed certificate; fix MachineKeys permissions if creating it fails. \
                 xrdp: point certificate= and key_file= at readable PEM files."
            ),
            "Code 2: Raise the server to SecurityLayer = 2 (or 1) with a certificate (xrdp: \
             security_layer=tls or negotiate plus certificate= and key_file=), or, as a \
             stopgap, let the client use Standard RDP Security (FreeRDP /sec:rdp).",
            "Code 4: Connect without the proxy, or let the client negotiate with its defaults; \
             update the client.",
            "Code 6: Give the client a certificate the server accepts, or drop the requirement \
             on the server.",
        ],
        see_also: &[
            "security-mismatch",
            "nla-not-enforced",
            "standard-rdp-security",
            "tls-not-started",
        ],
    },
    Explanation {
        code: "security-mismatch",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "Client refused the server's security choice and left",
        on_the_wire: "The server answered with a valid Connection Confirm (RDP_NEG_RSP with a \
            selectedProtocol, or no negotiation data at all, which means Standard RDP \
            Security), and the client closed within milliseconds without starting the next \
            step: no TLS ClientHello when TLS or CredSSP was selected, no MCS Connect Initial \
            when Standard RDP Security was. The client could not or would not use what the \
            server chose. A server that had already started TLS may answer the client's FIN \
            with a fatal alert such as decode_error; that alert is a consequence, not the \
            cause.",
        causes: &[
            "The client requires NLA and the server selected TLS without CredSSP, or Standard \
             RDP Security: FreeRDP /sec:nla or an NLA-only client policy against xrdp (which has \
             no CredSSP) or against a Windows server with NLA off.",
            "The client requires server authentication (mstsc 'authentication level:i:1', or \
             the client GPO 'Configure server authentication for client' = 'Do not connect if \
             authentication fails') and the server selected Standard RDP Security \
             (SecurityLayer = 0), which cannot authenticate the server.",
            "The client requires TLS (FreeRDP /sec:tls) and the server selected Standard RDP \
             Security.",
            "The server selected a protocol the client never requested (a buggy server, or a \
             middlebox rewriting the negotiation), which the client has to refuse.",
        ],
        windows_logs: &[
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 131 - the accepted \
             TCP connection, with no authentication or session events after it",
            "Client: Microsoft-Windows-TerminalServices-RDPClient/Operational 1026 - \
             disconnected, with a reason code; FreeRDP reports a security negotiation failure \
             (ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED)",
        ],
        fixes: &[
            concat!(
                "Make the server offer what the client requires: SecurityLayer = 2 (or 1) and \
                 UserAuthentication = 1 under ",
                rdp_tcp!(),
                ", or the GPOs under ",
                rdsh_security!(),
                ": 'Require use of specific security layer for remote (RDP) connections' = SSL \
                 and 'Require user authentication for remote connections by using Network Level \
                 Authentication' = Enabled."
            ),
            "xrdp cannot do NLA: connect with TLS (FreeRDP /sec:tls; mstsc accepts TLS by \
             default), and if authentication before the logon screen is required, put the host \
             behind a VPN or an RD Gateway.",
            "Relax the client only when the server cannot change: mstsc 'authentication \
             level:i:2' (warn) instead of 1, FreeRDP /sec:tls instead of /sec:nla.",
            "If a middlebox rewrites the negotiation, test directly against the server and turn \
             off RDP protocol enforcement on that path.",
        ],
        see_also: &[
            "negotiation-failure",
            "nla-not-enforced",
            "standard-rdp-security",
        ],
    },
    Explanation {
        code: "tls-not-started",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "TLS selected, but the server never sent a ServerHello",
        on_the_wire: "The negotiation selected TLS or CredSSP (RDP_NEG_RSP with PROTOCOL_SSL or \
            PROTOCOL_HYBRID), the client sent its ClientHello, and instead of a ServerHello the \
            server closed (FIN), reset (RST), or sent a few clear-text bytes - typically a \
            9-byte TPKT holding an MCS Disconnect Provider Ultimatum - with no TLS alert. The \
            server failed to set up its own TLS side before it could look at the client's \
            offer, which points at its certificate or private key: a cipher or version problem \
            would have produced an alert.",
        causes: &[
            "The private key of the RDP certificate is unusable: it does not match the \
             certificate, it is missing (certificate imported without its key), or NETWORK \
             SERVICE, the account TermService runs as, cannot read it.",
            "SSLCertificateSHA1Hash under RDP-Tcp names a certificate that was deleted, \
             renewed under a new thumbprint, or is not in the LocalMachine store.",
            concat!(
                "The self-signed certificate or its key is damaged: wrong permissions on ",
                machine_keys!(),
                ", or keys copied from another machine."
            ),
            "The key sits where the service cannot use it: older RDP hosts (Windows Server \
             2008 R2) need a key from a legacy CryptoAPI provider rather than a CNG key storage \
             provider; keys on a TPM or HSM the service cannot reach.",
            "xrdp: certificate= and key_file= do not match, the key has a passphrase, or the \
             xrdp user cannot read it (on Debian/Ubuntu it must be in the ssl-cert group for \
             /etc/ssl/private).",
            "The server process crashed or dropped the connection right after the Connection \
             Confirm (TermService worker or xrdp child crash, a listener that accepts and \
             closes).",
        ],
        windows_logs: &[
            "System: Schannel 36870 - 'A fatal error occurred when attempting to access the TLS \
             server credential private key. The error code returned from the cryptographic \
             module is 0x8009030D. The internal error state is 10001.'",
            "System: Schannel 36871 - 'A fatal error occurred while creating a TLS server \
             credential'",
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1057 / 1058 - \
             failed to create / replace the self-signed certificate ('Access is denied', \
             'Keyset does not exist', 'Object already exists')",
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1059 - \
             certificate configuration invalid and reset; 1064 / 1065 - template-based \
             certificate could not be installed / expired and could not be replaced",
            "System: TermDD 56 - 'The Terminal Server security layer detected an error in the \
             protocol stream and has disconnected the client' may accompany it",
        ],
        fixes: &[
            "List the candidates: `Get-ChildItem 'Cert:\\LocalMachine\\Remote Desktop', \
             Cert:\\LocalMachine\\My | Format-List Subject, Thumbprint, NotAfter, \
             HasPrivateKey` and compare with `reg query \"HKLM\\SYSTEM\\CurrentControlSet\\\
             Control\\Terminal Server\\WinStations\\RDP-Tcp\" /v SSLCertificateSHA1Hash`.",
            "Give the service the key: certlm.msc > the certificate > All Tasks > Manage \
             Private Keys > add NETWORK SERVICE with Read; repair a broken certificate-to-key \
             link with `certutil -repairstore my THUMBPRINT`.",
            concat!(
                "Bind a good certificate with ",
                set_cert_hash!(),
                ". To return to a self-signed one, delete the SSLCertificateSHA1Hash value and \
                 the old certificate in Cert:\\LocalMachine\\Remote Desktop, then \
                 `Restart-Service TermService -Force`."
            ),
            concat!(
                "Reset key folder permissions if 1057/1058 or 36870 appear: `icacls ",
                machine_keys!(),
                " /t /c /grant \"NT AUTHORITY\\System:(F)\" \"NT AUTHORITY\\NETWORK SERVICE:(R)\" \
                 \"BUILTIN\\Administrators:(F)\"`, then restart TermService."
            ),
            "xrdp: `openssl x509 -noout -pubkey -in cert.pem` and `openssl pkey -pubout -in \
             key.pem` must print the same key; make the key readable (`adduser xrdp ssl-cert`), \
             restart xrdp and read /var/log/xrdp.log.",
        ],
        see_also: &[
            "negotiation-failure",
            "tls-handshake-failed",
            "tls-cipher-mismatch",
            "protocol-error",
        ],
    },
    Explanation {
        code: "tls-cipher-mismatch",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "No TLS cipher suite in common between client and server",
        on_the_wire: "After the ClientHello the server sent a fatal alert - handshake_failure \
            (40) or insufficient_security (71) - before any ServerHello, and the connection \
            closed (Windows and xrdp may follow with a clear-text MCS Disconnect Provider \
            Ultimatum). The alert is readable because no keys exist yet. The ClientHello's \
            cipher_suites list, set against what the server allows, shows the gap.",
        causes: &[
            concat!(
                "Cipher suites cut down on the server (",
                cipher_order_gpo!(),
                ", IIS Crypto templates, CIS/STIG hardening) to a set an older client lacks: \
                 Windows 7 / Server 2008 R2, embedded thin clients, old Java or OpenSSL \
                 clients."
            ),
            "The lists overlap by name but nothing fits the server's certificate: only ECDSA \
             suites allowed with an RSA certificate, or only RSA suites with an ECDSA one.",
            "The client restricts its own list: FreeRDP /tls-ciphers:, an OpenSSL security \
             level or system crypto policy that drops what the server offers, FIPS mode on \
             either side.",
            "xrdp's tls_ciphers= is narrower than what the client offers.",
            "A TLS-inspecting middlebox presents its own suite list to the server.",
        ],
        windows_logs: &[
            "System: Schannel 36874 - 'An TLS 1.2 connection request was received from a remote \
             client application, but none of the cipher suites supported by the client \
             application are supported by the server. The TLS connection request has failed.'",
            "System: Schannel 36888 - 'A fatal alert was generated and sent to the remote \
             endpoint. ... The TLS protocol defined fatal error code is 40.'",
            "Client (Windows): Schannel 36887 - 'A fatal alert was received from the remote \
             endpoint. The TLS protocol defined fatal alert code is 40.'",
        ],
        fixes: &[
            "Compare lists: `Get-TlsCipherSuite | Format-Table Name` on the server against the \
             suites the client offered (the report lists them under 'offered'); add one back \
             with `Enable-TlsCipherSuite -Name TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384` (plus an \
             ECDHE CBC-SHA suite if old clients must connect).",
            concat!(
                "If the GPO ",
                cipher_order_gpo!(),
                " is set it overrides local changes: edit it there (it writes ",
                r"HKLM\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002",
                " Functions) and reboot."
            ),
            "Keep the suites consistent with the certificate's key type: RSA certificate -> \
             TLS_ECDHE_RSA_* suites; ECDSA certificate -> TLS_ECDHE_ECDSA_*.",
            "Update old clients (Windows 7 needs KB3080079 and current updates for TLS 1.2 \
             RDP; thin-client firmware).",
            "FreeRDP against an old server: /tls-seclevel:0 or a wider /tls-ciphers: list \
             (FreeRDP 3: /tls:seclevel:0); xrdp: widen tls_ciphers= (e.g. tls_ciphers=HIGH) and \
             restart.",
        ],
        see_also: &[
            "tls-version-rejected",
            "tls-handshake-failed",
            "tls-weak-cipher",
        ],
    },
    Explanation {
        code: "tls-version-rejected",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "TLS version refused: no protocol version both sides accept",
        on_the_wire: "Either the server answered the ClientHello with a fatal protocol_version \
            (70) alert and no ServerHello - the client's highest version (legacy_version, or \
            supported_versions for TLS 1.3) is below the server's minimum, or every version \
            it offered is disabled on the server - or the server's ServerHello picked an old \
            version and the client answered with protocol_version or simply closed. The offered \
            and chosen versions are in clear text in the hellos.",
        causes: &[
            concat!(
                "TLS 1.0/1.1 disabled on the server (",
                schannel!(),
                r"\Protocols\TLS 1.0\Server Enabled = 0) while the client only does TLS 1.0: ",
                "Windows 7 / Server 2008 R2 without KB3080079, XP Embedded thin clients, old \
                 rdesktop or Java clients."
            ),
            "The server can only do TLS 1.0 (Windows 7 / Server 2008 R2 without KB3080079, or \
             TLS 1.2 left disabled under SCHANNEL\\Protocols\\TLS 1.2\\Server) and the client \
             requires TLS 1.2 (TLS 1.0 disabled on the client, Linux crypto policies, OpenSSL 3 \
             defaults).",
            "A TLS 1.3-only server (xrdp ssl_protocols=TLSv1.3) and a client capped at TLS 1.2 \
             (FreeRDP +enforce-tlsv1_2, older Windows).",
            "Client-side minimums: OpenSSL security level or a system crypto policy refusing \
             TLS 1.0/1.1 from an old server.",
        ],
        windows_logs: &[
            "System: Schannel 36888 - fatal alert generated, 'The TLS protocol defined fatal \
             error code is 70' (protocol_version)",
            "System: Schannel 36871 - 'A fatal error occurred while creating a TLS server \
             credential. The internal error state is 10013.' when the versions the listener \
             needs are disabled",
            "Client (Windows): Schannel 36887 - fatal alert received, code 70; or 36871 with \
             state 10013 when no enabled client protocol is usable",
        ],
        fixes: &[
            concat!(
                "Enable TLS 1.2 on both ends: ",
                schannel!(),
                r"\Protocols\TLS 1.2\Server and \Client: Enabled = 1, DisabledByDefault = 0 ",
                "(DWORD), then reboot."
            ),
            "Windows 7 SP1 / Server 2008 R2 SP1: install KB3080079 (TLS 1.1/1.2 for RDP) and \
             current updates; Windows Server 2008 SP2: KB4019276.",
            "Replace or update clients that only do TLS 1.0; re-enabling TLS 1.0 on the server \
             is a last-resort, temporary measure.",
            "FreeRDP: drop +enforce-tlsv1_2 against a TLS 1.3-only server, or lower the \
             OpenSSL level for an old server with /tls-seclevel:0 (FreeRDP 3: \
             /tls:seclevel:0); xrdp: ssl_protocols=TLSv1.2, TLSv1.3.",
        ],
        see_also: &[
            "tls-cipher-mismatch",
            "tls-legacy-version",
            "tls-handshake-failed",
        ],
    },
    Explanation {
        code: "tls-handshake-failed",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "TLS handshake aborted by a fatal alert or a close",
        on_the_wire: "The TLS handshake started and ended early, with a fatal alert other than \
            the cipher and version ones - bad_certificate (42), unsupported_certificate (43), \
            certificate_expired (45), certificate_unknown (46), illegal_parameter (47), \
            unknown_ca (48), access_denied (49), decode_error (50), decrypt_error (51), \
            internal_error (80) - or with a FIN or RST in the middle of it. Who sent the alert \
            says who gave up: the client, after the server's Certificate, usually rejected the \
            certificate; the server, after the client's key exchange or Finished, hit a key or \
            integrity failure. Under TLS 1.3 alerts after the ServerHello are encrypted and \
            only their presence is visible.",
        causes: &[
            "The client rejects the server certificate: untrusted issuer (unknown_ca), expired \
             or not yet valid (certificate_expired), wrong name, no Server Authentication EKU, \
             or a key usage that does not allow the key exchange. mstsc asks the user instead \
             of sending an alert; FreeRDP and other OpenSSL clients abort unless told to \
             accept (/cert:ignore, /cert:tofu).",
            "A middlebox (TLS inspection, IPS, WAN optimiser) altering handshake bytes: \
             decrypt_error or bad_record_mac.",
            "Key-exchange incompatibilities: intermittent failures with TLS_DHE_* suites \
             against older Windows builds (a known padding interoperability problem).",
            "A client clock far off, so a valid certificate looks expired or not yet valid.",
            "The server asked for a client certificate the client cannot give (access_denied, \
             certificate_required).",
        ],
        windows_logs: &[
            "System: Schannel 36887 - 'A fatal alert was received from the remote endpoint. The \
             TLS protocol defined fatal alert code is N.' (on the side that received it)",
            "System: Schannel 36888 - 'A fatal alert was generated and sent to the remote \
             endpoint ... The TLS protocol defined fatal error code is N', with an SChannel \
             error state",
            "System: TermDD 56 can follow on the server when the TLS layer aborts",
        ],
        fixes: &[
            "Match the alert code and its sender: 48 unknown_ca -> put the issuing CA in the \
             client's trusted stores or use a CA-issued RDP certificate; 45 -> renew the \
             certificate or fix the clock; 42/43/46 -> reissue with the Server Authentication \
             EKU (1.3.6.1.5.5.7.3.1) or the Remote Desktop Authentication EKU \
             (1.3.6.1.4.1.311.54.1.2) and a matching key usage.",
            "Test without the middlebox (direct path, or a bypass for TCP {port}) when \
             decrypt_error or bad_record_mac appear.",
            "When failures are intermittent and a DHE suite was negotiated, disable DHE: \
             `Get-TlsCipherSuite -Name TLS_DHE_ | ForEach-Object { Disable-TlsCipherSuite \
             -Name $_.Name }` and prefer ECDHE.",
            "FreeRDP: trust the server instead of ignoring it (/cert:tofu, or add its CA to the \
             system store).",
            "Sync clocks: `w32tm /resync`, `w32tm /query /status`.",
        ],
        see_also: &[
            "tls-not-started",
            "tls-cipher-mismatch",
            "tls-version-rejected",
            "cert-expired",
            "cert-name-mismatch",
        ],
    },
    Explanation {
        code: "auth-failed",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "NLA (CredSSP) authentication failed before any session",
        on_the_wire: "PROTOCOL_HYBRID (NLA) was selected, the TLS handshake completed, then only \
            a handful of small TLS records went each way - the CredSSP TSRequest exchange \
            carrying SPNEGO with NTLM or Kerberos - before the server closed (often close_notify \
            then FIN or RST) without any MCS Connect Initial/Response. The credentials are \
            checked inside that exchange, so a connection that ends there was refused before a \
            session existed: what users see as 'the session ended right after \
            authentication'. With the TLS keys, Wireshark shows the NTLMSSP messages and a \
            TSRequest errorCode when the server sent one.",
        causes: &[
            "Wrong password or unknown user, often a saved credential left over from before a \
             password change.",
            "Account locked out, disabled, expired or outside its logon hours; password \
             expired or 'must change password at next logon' (NLA cannot prompt for a new \
             one).",
            "No network logon right, which the CredSSP check uses: the account is in 'Deny \
             access to this computer from the network' (the 'Local account' group in common \
             baselines blocks local administrators) or lacks 'Access this computer from the \
             network'. Remote Desktop Users membership is checked later on some versions, so \
             that failure can show as a short session instead.",
            "CredSSP encryption oracle remediation mismatch (CVE-2018-0886): one side patched \
             and set to Force Updated Clients, the other unpatched; the client says 'This could \
             be due to CredSSP encryption oracle remediation'.",
            "NTLM blocked ('Network security: Restrict NTLM' policies) while Kerberos cannot \
             be used: connecting by IP address or an alias without an SPN, no domain \
             controller reachable, or a user in Protected Users (no NTLM at all).",
            "Kerberos failures: clock skew over 5 minutes (KRB_AP_ERR_SKEW), a missing or \
             duplicate TERMSRV/ SPN.",
        ],
        windows_logs: &[
            "Security 4625 - 'An account failed to log on', logon type 3 (NLA is a network \
             logon), Status 0xC000006D with Sub Status 0xC000006A (bad password), 0xC0000064 \
             (no such user), 0xC0000234 (locked out), 0xC0000072 (disabled), 0xC0000071 \
             (password expired), 0xC0000224 (must change password), or Status 0xC000015B \
             (logon type not granted)",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 140 - 'A connection \
             from the client computer with an IP address of ... failed because the user name or \
             password is not correct'",
            "No Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational 1149 for \
             the attempt: with NLA, 1149 is logged only after authentication succeeded",
            "Domain controller: Security 4771 (Kerberos pre-authentication failed; 0x18 bad \
             password, 0x25 clock skew), 4776 (NTLM credential validation), 4740 (account \
             locked out)",
            "Client: System LsaSrv 6041 - CredSSP could not negotiate a common protocol version \
             (encryption oracle remediation)",
        ],
        fixes: &[
            "Read the sub-status of Security 4625 on the RDP host (and 4771/4776 on the DCs) and \
             fix that: `Unlock-ADAccount user`, `Get-ADUser user -Properties \
             LockedOut,Enabled,PasswordExpired,AccountExpirationDate`; clear stale saved \
             credentials on the client (`cmdkey /list`, `cmdkey /delete:TERMSRV/host`).",
            "Check user rights (gpresult /h report.html, or secpol.msc > User Rights \
             Assignment): take the account out of 'Deny access to this computer from the \
             network', make sure 'Access this computer from the network' and 'Allow log on \
             through Remote Desktop Services' include it, and add it to Remote Desktop Users \
             (`Add-LocalGroupMember -Group 'Remote Desktop Users' -Member DOMAIN\\user`).",
            "CredSSP oracle: install current updates on both sides. The policy is Computer \
             Configuration > Administrative Templates > System > Credentials Delegation > \
             Encryption Oracle Remediation (registry HKLM\\SOFTWARE\\Microsoft\\Windows\\\
             CurrentVersion\\Policies\\System\\CredSSP\\Parameters AllowEncryptionOracle: 0 \
             Force Updated Clients, 1 Mitigated, 2 Vulnerable); use 2 only briefly on a client \
             to reach and patch an old server.",
            "Connect by the server's FQDN so Kerberos is used, check its SPNs (`setspn -L \
             hostname`), and fix time sync (`w32tm /resync`, `w32tm /monitor`).",
            "A user whose password expired or must change: change it by other means first; \
             NLA cannot do it.",
        ],
        see_also: &["brute-force", "closed-early", "nla-not-enforced"],
    },
    Explanation {
        code: "protocol-error",
        kind: CodeKind::Verdict,
        severity: "error",
        title: "Server aborted the connection during the MCS / security exchange",
        on_the_wire: "Negotiation worked and the connection went on (Standard RDP Security, or \
            TLS/CredSSP completed); then, during the MCS phase - Connect Initial/Response, Erect \
            Domain, Attach User, Channel Join, Security Exchange, Client Info - the server sent \
            an MCS Disconnect Provider Ultimatum and/or closed, within milliseconds of a client \
            PDU, with no licensing or Demand Active after it. The Ultimatum's reason is almost \
            always rn-user-requested whatever happened, so it carries no diagnosis. On Windows \
            this is the pattern behind System TermDD 56, 'The Terminal Server security layer \
            detected an error in the protocol stream and has disconnected the client'.",
        causes: &[
            "Standard RDP Security decryption or MAC errors: the server cannot decrypt or \
             verify a client PDU (Client Info, the first data PDUs) because of an \
             implementation mismatch or traffic corrupted on the way.",
            concat!(
                "A damaged RSA key for Standard RDP Security: the \
                 f686aace6942fb7f7ceb231212eef4a4_<MachineGuid> file in ",
                machine_keys!(),
                " unreadable or corrupt, or the proprietary certificate values under ",
                r"HKLM\SYSTEM\CurrentControlSet\Services\TermService\Parameters",
                " damaged."
            ),
            "Middleboxes rewriting or truncating RDP: IPS/IDS with RDP protocol enforcement, \
             WAN optimisers, TCP proxies.",
            "MTU or fragmentation trouble on VPN and tunnel paths: large PDUs (an MCS Connect \
             Initial with many channels, Client Info) lost or mangled while small ones pass.",
            "Interoperability bugs in old or non-Microsoft clients and servers (xrdp/FreeRDP \
             combinations, very old mstsc, embedded clients) in the MCS/GCC or Standard RDP \
             Security code.",
        ],
        windows_logs: &[
            "System: TermDD 56 - 'The Terminal Server security layer detected an error in the \
             protocol stream and has disconnected the client. Client IP: ...'; the last 4 \
             bytes of its binary data hold the error code (reverse their order; a leading 0xD \
             stands for an NTSTATUS 0xC...)",
            "System: TermDD 50 - 'The RDP protocol component X.224 (or MCS, WD, \"DATA \
             ENCRYPTION\") detected an error in the protocol stream and has disconnected the \
             client'",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 97 - an RDP protocol \
             component detected an error in the protocol stream (component and error code)",
        ],
        fixes: &[
            concat!(
                "Move off Standard RDP Security: SecurityLayer = 2 and UserAuthentication = 1 \
                 under ",
                rdp_tcp!(),
                " (GPO 'Require use of specific security layer for remote (RDP) connections' = \
                 SSL); the RC4/MAC code path is then not used at all."
            ),
            concat!(
                "Rebuild the Standard RDP Security keys: back up, then delete the values \
                 Certificate, X509 Certificate, X509 Certificate ID (and X509 Certificate2 if \
                 present) under ",
                r"HKLM\SYSTEM\CurrentControlSet\Services\TermService\Parameters",
                ", move the f686aace6942fb7f7ceb231212eef4a4_* files out of MachineKeys, check \
                 MachineKeys permissions, and reboot; the keys are recreated."
            ),
            "Test without middleboxes (direct path, or an exemption for TCP {port} in IPS and RDP \
             inspection profiles).",
            "Check the path MTU: `ping -f -l 1472 server`, lowering the size until it passes, \
             and clamp the TCP MSS on VPN or tunnel interfaces.",
            "Update both ends; for xrdp/FreeRDP, switch to TLS (xrdp security_layer=tls or \
             negotiate with a certificate; FreeRDP /sec:tls).",
        ],
        see_also: &[
            "standard-rdp-security",
            "tls-not-started",
            "closed-early",
            "capture-gap",
        ],
    },
    Explanation {
        code: "closed-early",
        kind: CodeKind::Verdict,
        severity: "warning",
        title: "Handshake completed, then the connection closed within seconds",
        on_the_wire: "Security setup succeeded (TLS, and CredSSP where selected, finished; or \
            the Standard RDP Security exchange completed) and some protected data went both \
            ways; then a side closed within seconds, with little data, by FIN, RST or an \
            encrypted alert. The reason travelled inside the encrypted stream - typically a \
            Set Error Info PDU, a licensing error or an MCS Disconnect Provider Ultimatum from \
            the server - so the capture shows who closed and when, not why. The session keys \
            (an SSLKEYLOGFILE from an OpenSSL-based client such as FreeRDP) would reveal it.",
        causes: &[
            "The user may not log on remotely: not in Remote Desktop Users, or denied by 'Allow \
             / Deny log on through Remote Desktop Services' ('The connection was denied \
             because the user account is not authorized for remote login').",
            "Licensing: no RD license server reachable, grace period over, or no CALs ('The \
             remote session was disconnected because there are no Remote Desktop License \
             Servers available to provide a license').",
            "Session limits: the connection limit reached, 'Restrict Remote Desktop Services \
             users to a single Remote Desktop Services session', or on a client OS another user \
             is signed in.",
            "Without NLA, a failed logon at the logon screen after which the client gave up, \
             or a logon script or shell that exits immediately.",
            "The client gave up: certificate warning cancelled by the user, graphics or codec \
             failure, client crash, or a scanner that only checks that RDP answers.",
            "A middlebox or idle timer ending the connection (RST from a firewall).",
        ],
        windows_logs: &[
            "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational 40 - 'Session N \
             has been disconnected, reason code R'; 24 (disconnected), 23 (logoff)",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 102 / 103 - the \
             server ended the connection, and the disconnect reason",
            "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Admin 1068 / 1069 - RD \
             Licensing mode not configured / grace period expired",
            "Security 4625 logon type 10 for a failed logon at the logon screen (without NLA); \
             4624 type 10 soon followed by 4634/4647 for a session that opened and closed",
            "Client: Microsoft-Windows-TerminalServices-RDPClient/Operational 1026 - 'RDP \
             ClientActiveX has been disconnected (Reason= N)'",
        ],
        fixes: &[
            "Read the disconnect reason on both sides (LocalSessionManager 40 on the server, \
             RDPClient 1026 on the client) and act on it.",
            "Authorization: `Add-LocalGroupMember -Group 'Remote Desktop Users' -Member \
             DOMAIN\\user`, and check 'Allow log on through Remote Desktop Services' / 'Deny \
             log on through Remote Desktop Services' in User Rights Assignment.",
            "Licensing: run the RD Licensing Diagnoser (lsdiag.msc); set the licensing mode and \
             license server under Computer Configuration > Administrative Templates > Windows \
             Components > Remote Desktop Services > Remote Desktop Session Host > Licensing; \
             install CALs.",
            "Session limits: Remote Desktop Session Host > Connections ('Limit number of \
             connections', 'Restrict Remote Desktop Services users to a single Remote Desktop \
             Services session') and > Session Time Limits.",
            "To see the reason on the wire, repeat with a client that logs TLS keys (FreeRDP \
             with SSLKEYLOGFILE) and decrypt with Wireshark.",
        ],
        see_also: &["established", "auth-failed", "protocol-error"],
    },
    Explanation {
        code: "incomplete",
        kind: CodeKind::Verdict,
        severity: "info",
        title: "Capture ends before the outcome can be told",
        on_the_wire: "There is too little of the connection to judge it: it starts mid-stream \
            (no SYN, or no X.224 exchange), one direction is missing, or the capture stops while \
            the setup is still in progress with nothing showing that it failed. No verdict would \
            be honest; whatever the capture did show is still reported.",
        causes: &[
            "The capture started after the connection was set up, or stopped before it ended \
             (file rotation, ring buffer, a duration limit).",
            "Only one direction was captured: a mirror port copying ingress only, asymmetric \
             routing, or a capture filter on an address that NAT rewrites.",
            "Packets were dropped or cut short by the capture itself (see capture-gap).",
            "The connection really was still in progress, for example a client waiting at a \
             prompt.",
        ],
        windows_logs: &[],
        fixes: &[
            "Start the capture before connecting and stop it after the failure is seen. On \
             Windows: `pktmon filter add -p {port}`, `pktmon start -c --pkt-size 0`, reproduce, \
             `pktmon stop`, `pktmon etl2pcap PktMon.etl`.",
            "Capture both directions: on the client or server itself, or on a mirror port that \
             copies ingress and egress.",
            "Filter on the port (tcp port {port}) rather than on an address NAT rewrites.",
        ],
        see_also: &["capture-gap"],
    },
    // ---------------------------------------------------------------- findings
    Explanation {
        code: "standard-rdp-security",
        kind: CodeKind::Finding,
        severity: "warning",
        title: "Standard RDP Security: RC4/FIPS, no server authentication",
        on_the_wire: "The server selected PROTOCOL_RDP (or the Connection Request had no \
            RDP_NEG_REQ), so no TLS follows. The MCS Connect Response carries the server \
            security data in clear - encryptionMethod (40/56/128-bit RC4, or FIPS 3DES), \
            encryptionLevel, the server random and the server certificate, usually a \
            proprietary one - and the client answers with a Security Exchange PDU holding its \
            random encrypted with that key. Everything after is RC4 or 3DES with MD5/SHA-1 \
            based MACs. There is no real server authentication: proprietary certificates are \
            signed with a key published in MS-RDPBCGR, so anyone in the path can substitute \
            their own and read the session, including the password typed at the logon screen.",
        causes: &[
            concat!(
                "SecurityLayer = 0 under ",
                rdp_tcp!(),
                ", or the GPO 'Require use of specific security layer for remote (RDP) \
                 connections' = RDP."
            ),
            "SecurityLayer = 1 (Negotiate) with a client that does not request TLS (FreeRDP \
             /sec:rdp, old rdesktop, very old clients).",
            "xrdp with security_layer=rdp, or negotiate with a client that only offers Standard \
             RDP Security.",
            "A compatibility setting left in place for old thin clients.",
        ],
        windows_logs: &[
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1050 - listener \
             configured with inconsistent encryption level and security layer, corrected \
             automatically; a working Standard RDP Security connection logs nothing special",
        ],
        fixes: &[
            concat!(
                "Require TLS: SecurityLayer = 2 under ",
                rdp_tcp!(),
                " (0 RDP, 1 Negotiate, 2 TLS), or GPO ",
                rdsh_security!(),
                " > 'Require use of specific security layer for remote (RDP) connections' = \
                 SSL; add UserAuthentication = 1 for NLA."
            ),
            concat!(
                "Make sure the policy key ",
                ts_policy!(),
                " does not override it: SecurityLayer, UserAuthentication and \
                 MinEncryptionLevel set there by GPO win over the RDP-Tcp values."
            ),
            "While Standard RDP Security must stay, set MinEncryptionLevel = 3 (High; 1 Low, 2 \
             Client Compatible, 4 FIPS Compliant) with 'Set client connection encryption \
             level'; it does not add server authentication.",
            "xrdp: security_layer=tls (or negotiate) with certificate= and key_file= set, \
             crypt_level=high; FreeRDP clients: /sec:tls or /sec:nla.",
        ],
        see_also: &[
            "nla-not-enforced",
            "cert-weak-key",
            "protocol-error",
            "negotiation-failure",
        ],
    },
    Explanation {
        code: "nla-not-enforced",
        kind: CodeKind::Finding,
        severity: "warning",
        title: "Client offered NLA but the server chose TLS or RDP security",
        on_the_wire: "The Connection Request's requestedProtocols includes PROTOCOL_HYBRID and \
            the server's RDP_NEG_RSP selected PROTOCOL_SSL or PROTOCOL_RDP. Users are then \
            authenticated at the logon screen of a session the server has already built: anyone \
            who reaches the port gets a Windows logon screen, pre-authentication code such as \
            the BlueKeep bug is exposed, and each attempt costs the server a session.",
        causes: &[
            concat!(
                "UserAuthentication = 0 under ",
                rdp_tcp!(),
                " (System Properties > Remote: 'Allow connections only from computers running \
                 Remote Desktop with Network Level Authentication' cleared), or the NLA GPO set \
                 to Disabled."
            ),
            "NLA turned off as a workaround: users with expired passwords, CredSSP oracle \
             errors, old clients.",
            "The server cannot do CredSSP: xrdp and some appliances.",
            "SecurityLayer = 0, which forces Standard RDP Security and so rules out NLA.",
        ],
        windows_logs: &[
            "Security 4624 / 4625 with logon type 10 only and no network (type 3) logon before \
             it: the credentials are checked at the logon screen",
        ],
        fixes: &[
            concat!(
                "Require NLA: UserAuthentication = 1 under ",
                rdp_tcp!(),
                ", or GPO ",
                rdsh_security!(),
                " > 'Require user authentication for remote connections by using Network Level \
                 Authentication' = Enabled."
            ),
            "With PowerShell: `Get-CimInstance -Namespace root\\cimv2\\TerminalServices \
             -ClassName Win32_TSGeneralSetting -Filter \"TerminalName='RDP-Tcp'\" | \
             Invoke-CimMethod -MethodName SetUserAuthenticationRequired -Arguments \
             @{UserAuthenticationRequired=1}`.",
            "Fix the reason NLA was turned off instead (client updates, CredSSP patches, a \
             password-change path for users).",
            "xrdp has no NLA: restrict who can reach it (firewall allow-list, VPN, SSH tunnel, \
             RD Gateway).",
        ],
        see_also: &[
            "standard-rdp-security",
            "security-mismatch",
            "bluekeep-probe",
            "brute-force",
        ],
    },
    Explanation {
        code: "tls-legacy-version",
        kind: CodeKind::Finding,
        severity: "warning",
        title: "Deprecated SSL/TLS version (SSL 3.0, TLS 1.0, TLS 1.1)",
        on_the_wire: "The ServerHello selected SSL 3.0, TLS 1.0 or TLS 1.1; RFC 8996 deprecates \
            TLS 1.0 and 1.1 and SSL 3.0 is broken (POODLE). The connection works, but with \
            constructions current baselines exclude. The ClientHello shows whether the client \
            could have done better, in which case the server chose the old version.",
        causes: &[
            concat!(
                "The server only does TLS 1.0 for RDP: Windows 7 / Server 2008 R2 without \
                 KB3080079, or with TLS 1.2 disabled under ",
                schannel!(),
                r"\Protocols\TLS 1.2\Server."
            ),
            "An old client (thin-client firmware, XP Embedded, old rdesktop) that only offers \
             TLS 1.0.",
            "A client that lowered its minimum for an old server (FreeRDP /tls-seclevel:0), or \
             xrdp ssl_protocols listing TLSv1 / TLSv1.1.",
        ],
        windows_logs: &[concat!(
            "System: Schannel 36880 - 'A TLS server handshake completed successfully' with \
                 the protocol version and cipher suite, only when EventLogging under ",
            schannel!(),
            " includes informational events (4 or 7)"
        )],
        fixes: &[
            concat!(
                "Enable TLS 1.2: ",
                schannel!(),
                r"\Protocols\TLS 1.2\Server and \Client: Enabled = 1, DisabledByDefault = 0; ",
                "on Windows 7 / Server 2008 R2 install KB3080079; reboot."
            ),
            concat!(
                "Once every client does TLS 1.2, disable the old versions on the server: ",
                schannel!(),
                r"\Protocols\TLS 1.0\Server, \TLS 1.1\Server and \SSL 3.0\Server: Enabled = 0, ",
                "DisabledByDefault = 1; reboot, and watch for Schannel 36871/36888 from clients \
                 left behind."
            ),
            "xrdp: ssl_protocols=TLSv1.2, TLSv1.3; FreeRDP: drop /tls-seclevel:0 once the \
             server is fixed.",
        ],
        see_also: &["tls-version-rejected", "tls-weak-cipher"],
    },
    Explanation {
        code: "tls-weak-cipher",
        kind: CodeKind::Finding,
        severity: "warning",
        title: "Weak TLS cipher suite negotiated",
        on_the_wire: "The ServerHello's cipher suite uses RC4, 3DES (64-bit blocks, Sweet32), \
            NULL encryption, EXPORT-grade keys, anonymous key exchange (no server \
            authentication at all), or static RSA key exchange (TLS_RSA_WITH_*: no forward \
            secrecy, so whoever later obtains the server's private key can decrypt recorded \
            sessions).",
        causes: &[
            "The server's suite order still lists legacy suites and the client offered them \
             (older Windows defaults rank TLS_RSA_* suites high).",
            "Only old suites are common to both sides: an old client, or a server restricted \
             to TLS_RSA_* suites.",
            "The client lowered its security level (FreeRDP /tls-seclevel:0), or xrdp's \
             tls_ciphers= includes weak suites.",
        ],
        windows_logs: &[
            "System: Schannel 36880 - handshake completed, with the cipher suite, only when \
             Schannel EventLogging includes informational events",
        ],
        fixes: &[
            concat!(
                "Set the order with the GPO ",
                cipher_order_gpo!(),
                ": ECDHE with AES-GCM first; no RC4, 3DES, NULL or EXPORT; TLS_RSA_* last or \
                 absent."
            ),
            concat!(
                "Per suite: `Disable-TlsCipherSuite -Name TLS_RSA_WITH_3DES_EDE_CBC_SHA`; \
                 disable the ciphers themselves under ",
                schannel!(),
                r"\Ciphers (RC4 128/128, Triple DES 168: Enabled = 0)."
            ),
            "xrdp: an OpenSSL cipher string such as tls_ciphers=ECDHE+AESGCM:ECDHE+CHACHA20, \
             then check that the clients still connect.",
        ],
        see_also: &[
            "tls-legacy-version",
            "tls-cipher-mismatch",
            "standard-rdp-security",
        ],
    },
    Explanation {
        code: "cert-expired",
        kind: CodeKind::Finding,
        severity: "error",
        title: "Server certificate had expired when the capture was taken",
        on_the_wire: "The server's certificate (in clear in TLS 1.2 and older, encrypted in TLS \
            1.3) has a notAfter earlier than the capture's own timestamp. The check uses the \
            capture time, not today: an old capture of a then-valid certificate is not flagged, \
            and a capture taken with a wrong clock can mislead. Clients warn or refuse; mstsc \
            shows a certificate error that users can often click through.",
        causes: &[
            "A CA-issued certificate bound by thumbprint (SSLCertificateSHA1Hash) or installed \
             by hand: nothing renews it.",
            "A template certificate whose autoenrollment renewal fails (template permissions, \
             CA unreachable).",
            "The self-signed RDP certificate (valid about six months) is normally replaced by \
             TermService on its own; an expired one means that renewal failed, usually on \
             MachineKeys permissions.",
            "xrdp's certificate= still points at the PEM made at install time.",
            "The server's or the capturing host's clock is wrong.",
        ],
        windows_logs: &[
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1052 - the \
             certificate will expire in N days; 1053 - the configured certificate has expired",
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1058 - 'failed \
             to replace the expired self signed certificate' (e.g. 'Access is denied')",
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1065 - the \
             template-based certificate expired and cannot be replaced",
            "System: Schannel 36887 - fatal alert 45 (certificate_expired) received, when a \
             strict client refuses it",
        ],
        fixes: &[
            "Inspect: `Get-ChildItem 'Cert:\\LocalMachine\\Remote Desktop', \
             Cert:\\LocalMachine\\My | Format-List Subject, NotAfter, Thumbprint` against the \
             thumbprint in SSLCertificateSHA1Hash.",
            "Self-signed: delete the expired one from Cert:\\LocalMachine\\Remote Desktop and \
             `Restart-Service TermService -Force`; a new one is made (fix MachineKeys \
             permissions if 1057/1058 appear).",
            "Template: `certutil -pulse` or `gpupdate /force` triggers autoenrollment; check the \
             GPO 'Server authentication certificate template' and the template's enrollment \
             permissions for computer accounts.",
            concat!(
                "Manual certificate: install the renewed one in LocalMachine\\My and bind it \
                 with ",
                set_cert_hash!(),
                "."
            ),
            "xrdp: `openssl x509 -noout -enddate -in /etc/xrdp/cert.pem`; replace the pair and \
             restart xrdp.",
        ],
        see_also: &[
            "cert-not-yet-valid",
            "cert-self-signed",
            "tls-handshake-failed",
        ],
    },
    Explanation {
        code: "cert-not-yet-valid",
        kind: CodeKind::Finding,
        severity: "error",
        title: "Server certificate was not yet valid when the capture was taken",
        on_the_wire: "The certificate's notBefore is later than the capture timestamp: it was \
            made by a machine whose clock ran ahead, or the clock of the server, the client or \
            the capturing host is off. Clients treat it like an expired certificate.",
        causes: &[
            "The server's clock was ahead when it generated its self-signed certificate (a VM \
             restored with a wrong time, hypervisor time sync fighting NTP).",
            "The client's or capturing host's clock is behind (no time sync, a VM resumed from \
             an old snapshot).",
            "A CA with a wrong clock issued it with a future start date.",
        ],
        windows_logs: &[
            "System: Microsoft-Windows-Time-Service warnings about unreachable or \
             unsynchronised time sources",
            "System: Schannel 36887 - fatal alert 45 (certificate_expired, also used for \
             not-yet-valid) received, when a strict client refuses it",
        ],
        fixes: &[
            "Check time on server, client and capture host: `w32tm /query /status`, `w32tm \
             /stripchart /computer:DC01 /samples:3`; resync with `w32tm /resync`; domain \
             members follow the domain hierarchy (`w32tm /config /syncfromflags:domhierarchy \
             /update`).",
            "For VMs, keep a single authoritative time source (hypervisor sync or NTP, not both \
             fighting).",
            "After fixing the clock, regenerate a self-signed certificate made at the wrong \
             time: delete it from Cert:\\LocalMachine\\Remote Desktop and restart TermService.",
        ],
        see_also: &["cert-expired", "auth-failed"],
    },
    Explanation {
        code: "cert-weak-key",
        kind: CodeKind::Finding,
        severity: "warning",
        title: "Server key too small: RSA below 2048 bits",
        on_the_wire: "The server's public key - in the TLS Certificate message, or under Standard \
            RDP Security in the proprietary or X.509 certificate inside the MCS Connect Response \
            - is an RSA key shorter than 2048 bits. The 512-bit proprietary keys of Standard RDP \
            Security can be factored with modest means, and 1024-bit keys are below every \
            current baseline.",
        causes: &[
            "Standard RDP Security with the server's proprietary certificate (a 512-bit key on \
             many Windows servers).",
            "A certificate template or request with a 1024-bit minimum key size, or an old \
             certificate never reissued.",
            "Appliances or old systems generating 1024-bit self-signed certificates.",
        ],
        windows_logs: &[],
        fixes: &[
            "Move to TLS (SecurityLayer = 2 under RDP-Tcp) so the proprietary key no longer \
             protects anything.",
            "Reissue with RSA 2048 bits or more (or ECDSA P-256 where all clients support it): \
             'Minimum key size' 2048 in the certificate template, re-enroll, bind the new \
             thumbprint.",
            "xrdp: `openssl req -x509 -newkey rsa:3072 -sha256 -days 365 -nodes -keyout key.pem \
             -out cert.pem -subj /CN=host.example.com`; the Standard RDP Security key in \
             rsakeys.ini is regenerated with `xrdp-keygen xrdp /etc/xrdp/rsakeys.ini`.",
        ],
        see_also: &["standard-rdp-security", "cert-weak-signature"],
    },
    Explanation {
        code: "cert-weak-signature",
        kind: CodeKind::Finding,
        severity: "warning",
        title: "Server certificate signed with MD5 or SHA-1",
        on_the_wire: "The certificate's signatureAlgorithm is md5WithRSAEncryption, \
            sha1WithRSAEncryption or ecdsa-with-SHA1. Collisions for both hashes are practical, \
            so a CA signature made with them no longer proves the certificate genuine, and \
            current OpenSSL security levels refuse such chains. On a self-signed certificate \
            the signature proves nothing anyway, but scanners flag it and strict clients may \
            refuse it.",
        causes: &[
            "An internal CA still signing with SHA-1.",
            "Self-signed RDP certificates from older Windows versions, or certificates made \
             with old tools.",
            "xrdp or appliance certificates generated with -sha1 or old defaults.",
        ],
        windows_logs: &[],
        fixes: &[
            "On an AD CS CA: `certutil -setreg ca\\csp\\CNGHashAlgorithm SHA256`, restart the CA \
             (`net stop certsvc && net start certsvc`), then reissue.",
            "Renew the RDP certificate from the SHA-256 CA and bind it (SSLCertificateSHA1Hash \
             names the thumbprint, not the signature algorithm).",
            "Self-signed: delete it from Cert:\\LocalMachine\\Remote Desktop and restart \
             TermService; current Windows versions sign the new one with SHA-256.",
            "xrdp: regenerate with `openssl req -x509 -sha256 ...`.",
        ],
        see_also: &["cert-weak-key", "cert-self-signed"],
    },
    Explanation {
        code: "cert-self-signed",
        kind: CodeKind::Finding,
        severity: "info",
        title: "Server uses a self-signed certificate",
        on_the_wire: "The certificate's issuer equals its subject and it is signed by its own \
            key. Windows makes one automatically (CN = the computer's FQDN, stored in \
            Cert:\\LocalMachine\\Remote Desktop) when no other certificate is configured. \
            Clients cannot verify it, so mstsc warns 'The identity of the remote computer \
            cannot be verified'; users who click through that by habit will click through a \
            man-in-the-middle's certificate too.",
        causes: &[
            "The default: no CA certificate has been deployed for RDP.",
            "A configured certificate was lost and the server fell back to its self-signed \
             one.",
            "xrdp's install-time cert.pem or the distribution's snakeoil certificate.",
        ],
        windows_logs: &[
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1056 - 'A new \
             self signed certificate to be used for RD Session Host Server authentication on \
             SSL connections was generated'",
            "System: Microsoft-Windows-TerminalServices-RemoteConnectionManager 1051 - the \
             configured certificate was not found and the default one is used",
        ],
        fixes: &[
            concat!(
                "Deploy CA certificates by GPO: ",
                rdsh_security!(),
                " > 'Server authentication certificate template' = the name of a template with \
                 the Server Authentication or Remote Desktop Authentication \
                 (1.3.6.1.4.1.311.54.1.2) EKU that computers may enroll for; the server enrolls \
                 and uses it."
            ),
            concat!(
                "Or import a certificate with its private key into LocalMachine\\My, grant \
                 NETWORK SERVICE read on the key, and bind it with ",
                set_cert_hash!(),
                "."
            ),
            "xrdp: certificate= and key_file= pointing at a CA-issued pair.",
        ],
        see_also: &["cert-name-mismatch", "cert-reused", "cert-expired"],
    },
    Explanation {
        code: "cert-name-mismatch",
        kind: CodeKind::Finding,
        severity: "info",
        title: "Certificate does not cover the server name the client asked for",
        on_the_wire: "The ClientHello carried a server_name (SNI), and neither the certificate's \
            subjectAltName DNS entries nor, without SAN, its subject CN match it. Clients that \
            check names warn (mstsc shows both the requested name and the certificate's) or \
            refuse. It can only be judged when the client sent SNI and the certificate is \
            visible (TLS 1.2 and older).",
        causes: &[
            "Connecting by IP address, short name, CNAME or alias while the certificate names \
             the FQDN.",
            "A farm or load-balanced name (RD Connection Broker, load balancer VIP) missing from \
             each host's SAN.",
            "A certificate copied from another server, or a clone that kept the original's \
             self-signed certificate.",
            "NAT or port forwarding where the public name differs from the internal one.",
        ],
        windows_logs: &[],
        fixes: &[
            "Connect with a name the certificate contains, or reissue it with every name clients \
             use in the SAN (FQDN, farm name, short name if needed).",
            "For farms, put the farm name and host names in the SAN of the certificate on every \
             host.",
            "For clones, regenerate the per-host certificate (see cert-reused).",
        ],
        see_also: &["cert-self-signed", "cert-reused", "tls-handshake-failed"],
    },
    Explanation {
        code: "nonstandard-port",
        kind: CodeKind::Finding,
        severity: "info",
        title: "RDP on a port other than 3389",
        on_the_wire: "The connection carries RDP - TPKT version 3 with an X.224 Connection \
            Request (cookie, RDP_NEG_REQ) - on a TCP port other than 3389; it was recognised by \
            its content, not its port.",
        causes: &[
            concat!(
                "PortNumber (DWORD, decimal) under ",
                rdp_tcp!(),
                " changed on purpose, often to cut down scanner noise."
            ),
            "A NAT or port forward mapping an outside port to 3389 inside, common for several \
             hosts behind one address.",
            "xrdp with port= set, a second listener, or Hyper-V VMConnect (TCP 2179, which \
             carries RDP).",
            "A tunnel or backdoor relaying RDP on an odd port: worth checking when no \
             administrator set that port.",
        ],
        windows_logs: &[],
        fixes: &[
            "If intended: keep a firewall rule for it (`New-NetFirewallRule -DisplayName 'RDP \
             {port}' -Direction Inbound -Protocol TCP -LocalPort {port} -Action Allow`), restart \
             TermService after changing PortNumber, and have clients connect to host:port.",
            "Do not count the port as a control: service detection finds RDP on any port in \
             seconds. NLA, an allow-list, a VPN or an RD Gateway are the controls.",
            "If nobody configured it, find the listener (`Get-NetTCPConnection -LocalPort PORT \
             -State Listen`, then the owning process) and treat it as a possible tunnel.",
        ],
        see_also: &["tcp-refused", "brute-force"],
    },
    Explanation {
        code: "bluekeep-probe",
        kind: CodeKind::Finding,
        severity: "error",
        title: "MS_T120 requested: BlueKeep (CVE-2019-0708) scan or exploit",
        on_the_wire: "The client's MCS Connect Initial lists, in its Client Network Data \
            (CS_NET), a static virtual channel named MS_T120. That channel is created by the \
            server for its own use; real clients never ask for it, and asking for it is the \
            trigger of CVE-2019-0708 (BlueKeep). So this is a vulnerability scanner (rdpscan, \
            the Metasploit cve_2019_0708_bluekeep modules) or an exploit attempt. The request \
            is readable under Standard RDP Security (or with the TLS keys), and reaching the \
            MCS phase without credentials means NLA was not required.",
        causes: &[
            "Vulnerability scanning, authorised or Internet-wide.",
            "An exploitation attempt against Windows XP, Vista, 7, Server 2003, 2008 or 2008 \
             R2.",
            "A worm or botnet probing exposed RDP.",
        ],
        windows_logs: &[
            "System: TermDD 50 or 56 protocol-stream errors naming the scanner's address may \
             accompany it",
            "System: BugCheck 1001 after an unexpected restart: a failed exploit usually \
             crashes a vulnerable host",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 131 - the source \
             address",
        ],
        fixes: &[
            "Patch: Windows 7 SP1 / Server 2008 R2 SP1 KB4499175 (security-only) or KB4499164 \
             (monthly rollup), or any later rollup; Server 2008 SP2 KB4499180; Windows XP / \
             Server 2003 (out of support) KB4500331.",
            "Require NLA (UserAuthentication = 1): authentication then comes before the \
             vulnerable code can be reached.",
            "Block TCP {port} at the edge; allow RDP only through a VPN or an RD Gateway.",
            "If a probed host was unpatched when the probe arrived, check it for compromise.",
        ],
        see_also: &["nla-not-enforced", "standard-rdp-security", "brute-force"],
    },
    Explanation {
        code: "capture-gap",
        kind: CodeKind::Finding,
        severity: "info",
        title: "Bytes missing from the capture; the analysis is partial",
        on_the_wire: "TCP sequence numbers jump forward on one side: data the receiver \
            acknowledged was never captured (Wireshark: 'previous segment not captured', 'ACKed \
            unseen segment'), or frames were cut short by the snap length. The reassembly skips \
            the hole, so PDUs spanning it cannot be decoded and later conclusions may rest on \
            partial data.",
        causes: &[
            "The capture dropped packets (buffer too small, slow disk, busy CPU); tcpdump and \
             dumpcap report 'packets dropped by kernel'.",
            "A snap length shorter than the packets (tcpdump -s 96 and the like).",
            "A mirror port that is oversubscribed or copies one direction only.",
            "Segmentation offloads (TSO/GSO/GRO/LRO) on the capturing host, which make the \
             capture differ from the wire.",
            "The capture started mid-connection, or the connection used two paths.",
        ],
        windows_logs: &[],
        fixes: &[
            "Capture whole packets with a larger buffer: `tcpdump -i eth0 -s 0 -B 8192 -w \
             rdp.pcap tcp port {port}`, or `dumpcap -i 1 -s 0 -B 64 -f \"tcp port {port}\" -w \
             rdp.pcapng`.",
            "Capture on the server or client itself rather than a shared mirror port; on \
             Windows `pktmon filter add -p {port}`, `pktmon start -c --pkt-size 0`, `pktmon \
             stop`, `pktmon etl2pcap PktMon.etl`.",
            "On a Linux capture host, turn offloads off while capturing: `ethtool -K eth0 gro \
             off lro off tso off gso off`.",
        ],
        see_also: &["incomplete", "protocol-error"],
    },
    // ---------------------------------------------------------------- capture findings
    Explanation {
        code: "brute-force",
        kind: CodeKind::CaptureFinding,
        severity: "warning",
        title: "Password guessing: many connections, user names or failures",
        on_the_wire: "One client opened at least 10 connections to one server within 60 \
            seconds, and together they carried at least 5 different user names in the \
            mstshash cookie of the Connection Request, or at least 5 of them ended as \
            authentication failures. The cookie travels in clear before any security is set up \
            and holds the user name the client was given (some clients truncate it), so a run \
            of different cookies - administrator, admin, root, user - is a list of guessed \
            accounts. Tools that send no cookie, or always the same one, show up through the \
            failure count instead.",
        causes: &[
            "Automated password guessing or credential stuffing against a port exposed to the \
             Internet.",
            "A compromised internal host trying to spread.",
            "An authorised penetration test, or a misconfigured monitoring script.",
            "A device retrying a stale saved password (one user name, so it trips the failure \
             count, not the user-name count).",
        ],
        windows_logs: &[
            "Security 4625 in bursts from one source address (logon type 3 with NLA, 10 \
             without), Sub Status 0xC0000064 (unknown user) and 0xC000006A (bad password)",
            "Security 4740 - account locked out (on the domain controllers for domain \
             accounts)",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 140 - failed logon \
             with the source IP; 131 for every accepted TCP connection",
            "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Admin 1006 - large \
             number of incomplete connections",
        ],
        fixes: &[
            "Take RDP off the Internet: allow it only from known networks (`Set-NetFirewallRule \
             -DisplayGroup 'Remote Desktop' -RemoteAddress 10.0.0.0/8`), or publish it only \
             through a VPN or an RD Gateway with MFA.",
            "Set an account lockout policy: Computer Configuration > Windows Settings > Security \
             Settings > Account Policies > Account Lockout Policy (for example 10 attempts, 15 \
             minutes); current Windows 11 has one for local accounts by default.",
            "Require NLA so each guess costs the attacker a CredSSP exchange instead of costing \
             the server a logon session.",
            "Block the source at the edge, and check whether any attempt succeeded (Security \
             4624 and RemoteConnectionManager 1149 from the same address).",
            "Rename or disable the well-known accounts the cookies target (Administrator) and \
             use long, unique passwords.",
        ],
        see_also: &[
            "password-spray",
            "auth-failed",
            "nla-not-enforced",
            "nonstandard-port",
        ],
    },
    Explanation {
        code: "password-spray",
        kind: CodeKind::CaptureFinding,
        severity: "warning",
        title: "Password spraying: a few guesses each on many servers or user names",
        on_the_wire: "Within 30 minutes, one client sent X.224 Connection Requests to at least \
            10 different servers, or with at least 10 different user names in the mstshash \
            cookie, at most 3 on each, and slowly: requests that were among 10 or more to one \
            server within 60 seconds belong to brute-force instead, and connections that \
            reached a session are not counted. That is the shape of password spraying: one or \
            two common passwords tried on many accounts or many hosts, paced so that no account \
            reaches its lockout threshold and no server sees a burst. The cookie carries the \
            user name in clear (some clients cut it to 9 characters); tools that send none show \
            up through the number of servers.",
        causes: &[
            "A password-spraying tool or botnet walking a list of accounts or hosts with a few \
             common passwords (Winter2025!, Company123).",
            "A compromised internal host trying harvested credentials on every RDP server it \
             can reach (lateral movement).",
            "A scanner or inventory job that opens one RDP connection to each host of a subnet \
             and goes no further than the negotiation.",
            "An administrator, script or gateway connecting to many servers, or for many users, \
             with connections that fail (an expired saved password) or whose end the capture \
             does not show.",
        ],
        windows_logs: &[
            "Security 4625 on the targeted servers from one source address, spread over many \
             accounts or many hosts with one or two each (logon type 3 with NLA, 10 without), \
             Sub Status 0xC000006A (bad password) or 0xC0000064 (unknown user); no single host \
             shows a burst",
            "Domain controllers: Security 4771 (Kerberos pre-authentication failed, code 0x18) \
             or 4776 (NTLM validation, error 0xC000006A) for many different accounts within \
             minutes, with the same client address or workstation name",
            "Security 4740 (account locked out) seldom: a few lockouts on many accounts at once \
             is a spray that misjudged the threshold",
            "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational 140 - failed logon \
             with the source IP, on each targeted server",
        ],
        fixes: &[
            "Look across hosts, not host by host: collect 4625, 4771 and 4776 from the domain \
             controllers and every RDP host for the finding's address and time span (`Get-WinEvent \
             -FilterHashtable @{LogName='Security'; Id=4625} | Where-Object { \
             $_.Properties[19].Value -eq 'ADDRESS' }`).",
            "Check whether a guess worked: Security 4624 (logon type 10 or 3) and \
             TerminalServices-RemoteConnectionManager/Operational 1149 from the same address; \
             reset the password of any account that logged on and end its sessions.",
            "Ban the passwords sprayers try: Microsoft Entra Password Protection for Active \
             Directory (banned-password list checked on the domain controllers), long \
             passphrases.",
            "Take RDP off the Internet and require MFA in front of it (an RD Gateway or a VPN \
             with MFA); allow TCP {port} only from admin networks (`Set-NetFirewallRule \
             -DisplayGroup 'Remote Desktop' -RemoteAddress 10.0.0.0/8`).",
            "Keep an account lockout policy (Computer Configuration > Windows Settings > \
             Security Settings > Account Policies > Account Lockout Policy): it does not stop \
             spraying, but it caps how many passwords each round can try.",
        ],
        see_also: &["brute-force", "auth-failed", "nla-not-enforced"],
    },
    Explanation {
        code: "cert-reused",
        kind: CodeKind::CaptureFinding,
        severity: "warning",
        title: "One certificate presented by several server addresses",
        on_the_wire: "The same certificate (same SHA-256 fingerprint) was presented by two or \
            more server IP addresses in the capture. Windows generates its self-signed RDP \
            certificate per machine, so a shared self-signed certificate means the machines \
            share its private key: typically VMs cloned from one image without sysprep. \
            Whoever holds that key on one machine can impersonate all of them.",
        causes: &[
            concat!(
                "Cloned VMs or disk images not generalised with sysprep: the self-signed RDP \
                 certificate and its key in ",
                machine_keys!(),
                " were copied along."
            ),
            "One certificate deliberately deployed to several hosts (a SAN or wildcard \
             certificate for a farm): acceptable when it is CA-issued and intended.",
            "One server seen through several addresses (several NICs, NAT, IPv4 and IPv6): not a \
             problem.",
        ],
        windows_logs: &[],
        fixes: &[
            "On each clone: delete the certificate from Cert:\\LocalMachine\\Remote Desktop and \
             `Restart-Service TermService -Force`; a new self-signed certificate and key are \
             generated (System 1056 confirms it).",
            "Fix the image: run `sysprep /generalize /oobe` before capturing it, so every \
             deployment gets its own identity.",
            concat!(
                "Better, deploy per-host CA certificates with the GPO ",
                rdsh_security!(),
                " > 'Server authentication certificate template'."
            ),
        ],
        see_also: &["cert-self-signed", "cert-name-mismatch"],
    },
];

/// Every code, verdicts first (from a working connection down the connection sequence), then
/// per-connection findings, then capture findings.
pub fn all() -> &'static [Explanation] {
    ALL
}

/// The explanation for `code`; surrounding blanks and letter case are ignored.
pub fn find(code: &str) -> Option<&'static Explanation> {
    let code = code.trim();
    ALL.iter().find(|e| e.code.eq_ignore_ascii_case(code))
}

/// Column the long form is wrapped at.
const WIDTH: usize = 96;

/// Column the list is wrapped at: a little wider, so titles fit beside the code and severity.
const LIST_WIDTH: usize = 100;

/// Kinds in the order the list shows them.
const KINDS: [CodeKind; 3] = [
    CodeKind::Verdict,
    CodeKind::Finding,
    CodeKind::CaptureFinding,
];

/// One line per code (code, severity, title) in aligned columns, grouped under "Verdicts",
/// "Findings" and "Capture findings".
pub fn render_list(out: &mut dyn Write) -> io::Result<()> {
    let code_width = ALL.iter().map(|e| e.code.len()).max().unwrap_or(0);
    let severity_width = ALL.iter().map(|e| e.severity.len()).max().unwrap_or(0);
    let hanging = " ".repeat(code_width.saturating_add(severity_width).saturating_add(6));
    for (i, kind) in KINDS.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", kind.heading())?;
        for e in ALL.iter().filter(|e| e.kind == *kind) {
            let first = format!(
                "  {:<code_width$}  {:<severity_width$}  ",
                e.code, e.severity
            );
            write_wrapped(out, e.title, &first, &hanging, LIST_WIDTH)?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Run `rdp-pcap explain CODE` for what a code means and how to fix it."
    )
}

/// The long form of one explanation, wrapped at 96 columns, in the sections "What the capture
/// shows", "Usual causes", "What Windows logs", "How to fix" and "See also".
pub fn render(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} ({}, {})", e.code, e.kind.as_str(), e.severity)?;
    write_wrapped(out, e.title, "", "", WIDTH)?;
    section(out, "What the capture shows")?;
    write_wrapped(out, e.on_the_wire, "  ", "  ", WIDTH)?;
    section(out, "Usual causes")?;
    items(out, e.causes, "Not known.")?;
    section(out, "What Windows logs")?;
    items(out, e.windows_logs, "Nothing specific to this case.")?;
    section(out, "How to fix")?;
    let target = crate::fix::Target::generic(crate::fix::example_port(e.code));
    let fixes: Vec<String> = e
        .fixes
        .iter()
        .map(|f| crate::fix::Fix::new(f, target).to_string())
        .collect();
    let fixes: Vec<&str> = fixes.iter().map(String::as_str).collect();
    items(out, &fixes, "Nothing to fix.")?;
    section(out, "See also")?;
    if e.see_also.is_empty() {
        writeln!(out, "  -")
    } else {
        write_wrapped(out, &e.see_also.join(", "), "  ", "  ", WIDTH)
    }
}

fn section(out: &mut dyn Write, heading: &str) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{heading}")
}

fn items(out: &mut dyn Write, list: &[&str], when_empty: &str) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "  {when_empty}");
    }
    for item in list {
        write_wrapped(out, item, "  - ", "    ", WIDTH)?;
    }
    Ok(())
}

/// Writes `text` word-wrapped at `width` columns: the first line starts with `first`, the others with
/// `rest`. A word longer than a whole line is cut into line-sized pieces so no line overflows.
fn write_wrapped(
    out: &mut dyn Write,
    text: &str,
    first: &str,
    rest: &str,
    width: usize,
) -> io::Result<()> {
    let rest_len = rest.chars().count();
    // At least a few characters per piece even if a prefix leaves no room.
    let piece_max = width.saturating_sub(rest_len).max(8);
    let mut line = String::from(first);
    let mut line_len = first.chars().count();
    let mut has_word = false;
    for word in text.split_whitespace() {
        for piece in pieces(word, piece_max) {
            let piece_len = piece.chars().count();
            let needed = if has_word {
                piece_len.saturating_add(1)
            } else {
                piece_len
            };
            if has_word && line_len.saturating_add(needed) > width {
                writeln!(out, "{line}")?;
                line.clear();
                line.push_str(rest);
                line_len = rest_len;
                has_word = false;
            }
            if has_word {
                line.push(' ');
                line_len = line_len.saturating_add(1);
            }
            line.push_str(piece);
            line_len = line_len.saturating_add(piece_len);
            has_word = true;
        }
    }
    writeln!(out, "{line}")
}

/// `word` cut into pieces of at most `max` characters (on character boundaries).
fn pieces(word: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut remaining = word;
    std::iter::from_fn(move || {
        if remaining.is_empty() {
            return None;
        }
        let cut = remaining
            .char_indices()
            .nth(max)
            .map_or(remaining.len(), |(i, _)| i);
        let (piece, tail) = remaining.split_at(cut);
        remaining = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The codes the reports emit, in listing order, with their kind and severity.
    const EXPECTED: &[(&str, CodeKind, &str)] = &[
        ("established", CodeKind::Verdict, "info"),
        ("tcp-refused", CodeKind::Verdict, "error"),
        ("tcp-unanswered", CodeKind::Verdict, "error"),
        ("not-rdp", CodeKind::Verdict, "warning"),
        ("no-negotiation-response", CodeKind::Verdict, "error"),
        ("negotiation-failure", CodeKind::Verdict, "error"),
        ("security-mismatch", CodeKind::Verdict, "error"),
        ("tls-not-started", CodeKind::Verdict, "error"),
        ("tls-cipher-mismatch", CodeKind::Verdict, "error"),
        ("tls-version-rejected", CodeKind::Verdict, "error"),
        ("tls-handshake-failed", CodeKind::Verdict, "error"),
        ("auth-failed", CodeKind::Verdict, "error"),
        ("protocol-error", CodeKind::Verdict, "error"),
        ("closed-early", CodeKind::Verdict, "warning"),
        ("incomplete", CodeKind::Verdict, "info"),
        ("standard-rdp-security", CodeKind::Finding, "warning"),
        ("nla-not-enforced", CodeKind::Finding, "warning"),
        ("tls-legacy-version", CodeKind::Finding, "warning"),
        ("tls-weak-cipher", CodeKind::Finding, "warning"),
        ("cert-expired", CodeKind::Finding, "error"),
        ("cert-not-yet-valid", CodeKind::Finding, "error"),
        ("cert-weak-key", CodeKind::Finding, "warning"),
        ("cert-weak-signature", CodeKind::Finding, "warning"),
        ("cert-self-signed", CodeKind::Finding, "info"),
        ("cert-name-mismatch", CodeKind::Finding, "info"),
        ("nonstandard-port", CodeKind::Finding, "info"),
        ("bluekeep-probe", CodeKind::Finding, "error"),
        ("capture-gap", CodeKind::Finding, "info"),
        ("brute-force", CodeKind::CaptureFinding, "warning"),
        ("password-spray", CodeKind::CaptureFinding, "warning"),
        ("cert-reused", CodeKind::CaptureFinding, "warning"),
    ];

    fn rendered(e: &Explanation) -> String {
        let mut buf = Vec::new();
        assert!(render(e, &mut buf).is_ok());
        String::from_utf8(buf).unwrap_or_default()
    }

    fn listing() -> String {
        let mut buf = Vec::new();
        assert!(render_list(&mut buf).is_ok());
        String::from_utf8(buf).unwrap_or_default()
    }

    fn assert_narrow(text: &str, what: &str) {
        for line in text.lines() {
            let width = line.chars().count();
            assert!(width <= 100, "{what}: line of {width} columns: {line}");
        }
    }

    #[test]
    fn every_code_once_in_order_with_kind_and_severity() {
        let got: Vec<(&str, CodeKind, &str)> =
            all().iter().map(|e| (e.code, e.kind, e.severity)).collect();
        assert_eq!(got, EXPECTED);
        let unique: HashSet<&str> = all().iter().map(|e| e.code).collect();
        assert_eq!(unique.len(), all().len());
    }

    #[test]
    fn kinds_are_grouped_verdicts_then_findings_then_capture_findings() {
        let order: Vec<usize> = all()
            .iter()
            .filter_map(|e| KINDS.iter().position(|k| *k == e.kind))
            .collect();
        assert_eq!(order.len(), all().len());
        assert!(order.windows(2).all(|w| w.first() <= w.last()));
    }

    #[test]
    fn find_returns_each_code_and_nothing_else() {
        for (code, kind, severity) in EXPECTED {
            let e = find(code);
            assert!(e.is_some(), "{code} not found");
            if let Some(e) = e {
                assert_eq!(e.code, *code);
                assert_eq!(e.kind, *kind);
                assert_eq!(e.severity, *severity);
            }
        }
        assert_eq!(
            find(" TLS-Cipher-Mismatch ").map(|e| e.code),
            Some("tls-cipher-mismatch")
        );
        assert!(find("tls").is_none());
        assert!(find("").is_none());
        assert!(find("no-such-code").is_none());
    }

    #[test]
    fn every_analyzer_code_is_explained_with_its_severity() {
        use rdp_wire::analyzer::{FindingCode, VerdictCode};
        for code in VerdictCode::ALL {
            let e = find(code.as_str());
            assert_eq!(
                e.map(|e| e.kind),
                Some(CodeKind::Verdict),
                "{}",
                code.as_str()
            );
            assert_eq!(e.map(|e| e.severity), Some(code.severity().as_str()));
        }
        for code in FindingCode::ALL {
            let e = find(code.as_str()).unwrap_or_else(|| panic!("{} unexplained", code.as_str()));
            assert_ne!(e.kind, CodeKind::Verdict, "{}", code.as_str());
            assert_eq!(e.severity, code.severity().as_str(), "{}", code.as_str());
        }
        assert_eq!(all().len(), VerdictCode::ALL.len() + FindingCode::ALL.len());
    }

    #[test]
    fn titles_are_single_short_lines() {
        for e in all() {
            let len = e.title.chars().count();
            assert!(len > 0 && len < 80, "{}: title of {len} characters", e.code);
            assert!(
                !e.title.ends_with('.'),
                "{}: title ends with a period",
                e.code
            );
            assert!(
                !e.title.contains('\n'),
                "{}: title has a line break",
                e.code
            );
        }
    }

    #[test]
    fn every_code_has_text_causes_and_fixes() {
        for e in all() {
            assert!(
                !e.on_the_wire.trim().is_empty(),
                "{}: no wire description",
                e.code
            );
            assert!(!e.causes.is_empty(), "{}: no cause", e.code);
            assert!(!e.fixes.is_empty(), "{}: no fix", e.code);
            let texts = std::iter::once(&e.on_the_wire)
                .chain(e.causes)
                .chain(e.windows_logs)
                .chain(e.fixes);
            for text in texts {
                assert!(!text.trim().is_empty(), "{}: empty entry", e.code);
                // Continuation lines in the source must not leak runs of spaces.
                assert!(!text.contains("  "), "{}: double space in {text}", e.code);
            }
        }
    }

    #[test]
    fn see_also_names_other_existing_codes() {
        for e in all() {
            let mut seen = HashSet::new();
            for other in e.see_also {
                assert!(
                    find(other).is_some(),
                    "{}: see_also {other} does not exist",
                    e.code
                );
                assert_ne!(*other, e.code, "{}: refers to itself", e.code);
                assert!(seen.insert(*other), "{}: {other} listed twice", e.code);
            }
        }
    }

    #[test]
    fn negotiation_failure_explains_every_failure_code() {
        let e = find("negotiation-failure");
        let text = e.map(rendered).unwrap_or_default();
        for name in [
            "SSL_REQUIRED_BY_SERVER",
            "SSL_NOT_ALLOWED_BY_SERVER",
            "SSL_CERT_NOT_ON_SERVER",
            "INCONSISTENT_FLAGS",
            "HYBRID_REQUIRED_BY_SERVER",
            "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        ] {
            assert!(text.contains(name), "{name} missing");
        }
    }

    #[test]
    fn list_shows_every_code_grouped_and_narrow() {
        let text = listing();
        assert_narrow(&text, "list");
        let headings: Vec<usize> = KINDS
            .iter()
            .filter_map(|k| text.lines().position(|l| l == k.heading()))
            .collect();
        assert_eq!(headings.len(), KINDS.len());
        assert!(headings.windows(2).all(|w| w.first() < w.last()));
        for e in all() {
            let line = text
                .lines()
                .find(|l| l.split_whitespace().next() == Some(e.code));
            assert!(line.is_some(), "{} missing from the list", e.code);
            if let Some(line) = line {
                assert!(line.contains(e.severity), "{}: no severity", e.code);
            }
        }
    }

    #[test]
    fn list_columns_are_aligned() {
        let text = listing();
        let title_columns: HashSet<Option<usize>> = all()
            .iter()
            .filter_map(|e| {
                text.lines()
                    .find(|l| l.split_whitespace().next() == Some(e.code))
                    .map(|l| l.find(e.title.split_whitespace().next().unwrap_or("")))
            })
            .collect();
        assert_eq!(title_columns.len(), 1, "titles start in different columns");
    }

    #[test]
    fn every_explanation_renders_all_sections_narrowly() {
        for e in all() {
            let text = rendered(e);
            assert!(text.starts_with(e.code), "{}", e.code);
            assert_narrow(&text, e.code);
            for heading in [
                "What the capture shows",
                "Usual causes",
                "What Windows logs",
                "How to fix",
                "See also",
            ] {
                assert!(
                    text.lines().any(|l| l == heading),
                    "{}: section {heading} missing",
                    e.code
                );
            }
            for other in e.see_also {
                assert!(
                    text.contains(other),
                    "{}: see also {other} not shown",
                    e.code
                );
            }
        }
    }

    #[test]
    fn wrapping_keeps_every_word_and_splits_overlong_ones() {
        let long = "x".repeat(250);
        let text = format!("short words then {long} and more");
        let mut buf = Vec::new();
        assert!(write_wrapped(&mut buf, &text, "  - ", "    ", WIDTH).is_ok());
        let out = String::from_utf8(buf).unwrap_or_default();
        assert_narrow(&out, "wrapped");
        let joined: String = out.split_whitespace().filter(|w| *w != "-").collect();
        assert_eq!(joined, text.split_whitespace().collect::<String>());
        assert!(out.lines().count() >= 4);
    }

    #[test]
    fn wrapping_counts_characters_not_bytes() {
        let text = "\u{2014} ".repeat(60);
        let mut buf = Vec::new();
        assert!(write_wrapped(&mut buf, &text, "", "", WIDTH).is_ok());
        let out = String::from_utf8(buf).unwrap_or_default();
        // 60 one-character words need 119 columns: two lines, the first one full.
        assert_eq!(out.lines().count(), 2);
        assert_narrow(&out, "dashes");
    }
}
