/// Stream anomalies, named as Suricata names them (`stream-event:` keyword,
/// `anomaly.event` in EVE). The reassembler raises the `Reassembly*` ones and
/// `PktRetransmission`; the flow table's TCP state machine raises the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamEvent {
    ReassemblyOverlapDifferentData,
    ReassemblySeqGap,
    ReassemblyDepthReached,
    PktRetransmission,
    RstButNoSession,
    FinButNoSession,
    ThreeWhsSynackWithWrongAck,
    ThreeWhsSynackInWrongDirection,
    ThreeWhsSynackTfoDataIgnored,
    ThreeWhsAckInWrongDir,
    FourWhsSynackWithWrongAck,
    EstSynToclient,
    EstSynackToserver,
    ShutdownSynResend,
    FinSyn,
}

impl StreamEvent {
    pub fn name(self) -> &'static str {
        match self {
            StreamEvent::ReassemblyOverlapDifferentData => {
                "stream.reassembly_overlap_different_data"
            }
            StreamEvent::ReassemblySeqGap => "stream.reassembly_seq_gap",
            StreamEvent::ReassemblyDepthReached => "stream.reassembly_depth_reached",
            StreamEvent::PktRetransmission => "stream.pkt_retransmission",
            StreamEvent::RstButNoSession => "stream.rst_but_no_session",
            StreamEvent::FinButNoSession => "stream.fin_but_no_session",
            StreamEvent::ThreeWhsSynackWithWrongAck => "stream.3whs_synack_with_wrong_ack",
            StreamEvent::ThreeWhsSynackInWrongDirection => "stream.3whs_synack_in_wrong_direction",
            StreamEvent::ThreeWhsSynackTfoDataIgnored => "stream.3whs_synack_tfo_data_ignored",
            StreamEvent::ThreeWhsAckInWrongDir => "stream.3whs_ack_in_wrong_dir",
            StreamEvent::FourWhsSynackWithWrongAck => "stream.4whs_synack_with_wrong_ack",
            StreamEvent::EstSynToclient => "stream.est_syn_toclient",
            StreamEvent::EstSynackToserver => "stream.est_synack_toserver",
            StreamEvent::ShutdownSynResend => "stream.shutdown_syn_resend",
            StreamEvent::FinSyn => "stream.fin_syn",
        }
    }
}
