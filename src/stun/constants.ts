// Numbers of the STUN/TURN wire format: RFC 8489 (STUN), RFC 8656 (TURN), RFC 6062 (TURN-TCP).

/** RFC 8489 §5: "The Magic Cookie field MUST contain the fixed value 0x2112A442 in network byte order." */
export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_LENGTH = 20;
export const TRANSACTION_ID_LENGTH = 12;
export const FINGERPRINT_XOR = 0x5354554e;

/** Message classes as the two C bits, already shifted into their positions of the 14-bit type. */
export const MessageClass = {
  request: 0x0000,
  indication: 0x0010,
  successResponse: 0x0100,
  errorResponse: 0x0110,
} as const;
export type MessageClass = (typeof MessageClass)[keyof typeof MessageClass];

export const Method = {
  binding: 0x001,
  allocate: 0x003,
  refresh: 0x004,
  send: 0x006,
  data: 0x007,
  createPermission: 0x008,
  channelBind: 0x009,
  connect: 0x00a,
  connectionBind: 0x00b,
  connectionAttempt: 0x00c,
} as const;
export type Method = (typeof Method)[keyof typeof Method];

export const METHOD_NAMES: Readonly<Record<number, string>> = {
  [Method.binding]: 'Binding',
  [Method.allocate]: 'Allocate',
  [Method.refresh]: 'Refresh',
  [Method.send]: 'Send',
  [Method.data]: 'Data',
  [Method.createPermission]: 'CreatePermission',
  [Method.channelBind]: 'ChannelBind',
  [Method.connect]: 'Connect',
  [Method.connectionBind]: 'ConnectionBind',
  [Method.connectionAttempt]: 'ConnectionAttempt',
};

export const Attr = {
  // RFC 8489 §18.3, comprehension-required (0x0000-0x7FFF)
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  REALM: 0x0014,
  NONCE: 0x0015,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  PASSWORD_ALGORITHM: 0x001d,
  USERHASH: 0x001e,
  XOR_MAPPED_ADDRESS: 0x0020,
  // RFC 8656 §18
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017,
  EVEN_PORT: 0x0018,
  REQUESTED_TRANSPORT: 0x0019,
  DONT_FRAGMENT: 0x001a,
  RESERVATION_TOKEN: 0x0022,
  // RFC 6062 §6.2
  CONNECTION_ID: 0x002a,
  // RFC 8445 §16.1: ICE attributes, seen in Binding requests (and in the RFC 5769 sample request)
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  // comprehension-optional (0x8000-0xFFFF)
  ADDITIONAL_ADDRESS_FAMILY: 0x8000,
  ADDRESS_ERROR_CODE: 0x8001,
  PASSWORD_ALGORITHMS: 0x8002,
  ALTERNATE_DOMAIN: 0x8003,
  ICMP: 0x8004,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

/** RFC 8489 §14: attribute types below 0x8000 must be understood or the request is rejected with 420. */
export function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

/** RFC 8656 §12: "channel numbers 0x4000 through 0x4FFF" are the ones a client may bind. */
export const MIN_CHANNEL = 0x4000;
export const MAX_CHANNEL = 0x4fff;
/** RFC 5766 §11 allowed "0x4000 through 0x7FFF"; RFC 5766 clients (coturn's among them) still use it. */
export const MAX_CHANNEL_RFC5766 = 0x7fff;

/** RFC 8656 §14.7 / §18.2: protocol numbers in REQUESTED-TRANSPORT. */
export const TRANSPORT_UDP = 17;
export const TRANSPORT_TCP = 6;

/** RFC 8656 §18.8: REQUESTED-ADDRESS-FAMILY values. */
export const FAMILY_IPV4 = 0x01;
export const FAMILY_IPV6 = 0x02;

/** RFC 8489 §18.5 password algorithm numbers. */
export const PASSWORD_ALGORITHM_MD5 = 0x0001;
export const PASSWORD_ALGORITHM_SHA256 = 0x0002;

/** Reason phrases of every error code STUN and TURN define (RFC 8489 §14.8, RFC 8656 §19, RFC 6062 §6.3). */
export const ERROR_REASONS: Readonly<Record<number, string>> = {
  300: 'Try Alternate',
  400: 'Bad Request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  405: 'Mobility Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  446: 'Connection Already Exists',
  447: 'Connection Timeout or Failure',
  486: 'Allocation Quota Reached',
  500: 'Server Error',
  508: 'Insufficient Capacity',
};
