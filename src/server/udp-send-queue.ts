// A bound on what waits to be sent on a datagram socket. When the kernel's send buffer is full (EAGAIN: a
// congested link or a full NIC queue behind it), libuv keeps every further send in a queue of its own, in user
// space and without a limit: memory grows for as long as the congestion lasts, and every datagram waits behind all
// the ones before it, which real-time media cannot use (measured on loopback with an htb class of 1 Mbit/s in front
// of a peer: 9,103 sends queued after one second at 10,000 datagrams/s). So once SEND_QUEUE_LIMIT sends are waiting
// on a socket, a datagram is dropped instead, and counted (stunner_send_dropped_packets_total): relay sockets
// towards peers (udp-relay-socket.ts), and the listener's or a client's own socket towards clients, over UDP
// (udp-link.ts) and DTLS (dtls-link.ts).
import type { Socket } from 'node:dgram';

/** Sends waiting in user space (beyond the kernel's full send buffer) before a socket drops instead. */
export const SEND_QUEUE_LIMIT = 64;

/** True when `socket` already has SEND_QUEUE_LIMIT sends waiting. One call into libuv (about 20 ns). */
export function sendQueueFull(socket: Socket): boolean {
  return socket.getSendQueueCount() >= SEND_QUEUE_LIMIT;
}
