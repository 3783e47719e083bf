// The STUN/TURN wire codec: pure functions over bytes (no sockets, timers, logging or telemetry).
export * from './constants.ts';
export * from './ip.ts';
export * from './address.ts';
export * from './attributes/index.ts';
export * from './message.ts';
export * from './writer.ts';
export * from './integrity.ts';
export * from './crc32.ts';
export * from './channel-data.ts';
export * from './stream-framer.ts';
