//! X.224 TPDUs and the RDP negotiation (MS-RDPBCGR 2.2.1.1, 2.2.1.2).
