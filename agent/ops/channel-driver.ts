/** A SIP channel driver of the PBX: chan_sip (`SIP/800`) or chan_pjsip (`PJSIP/800`). */
export type ChannelDriver = 'sip' | 'pjsip';
