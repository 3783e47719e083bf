// A relay-only video call between two RTCPeerConnections in one Chromium page (see test/helpers/chromium.ts),
// kept in `window.call` so that a test can read its stats while it changes the gateway under it.
import { USER } from './daemon.ts';

export interface Video {
  readonly ice: string;
  readonly frames: number;
  readonly packets: number;
  readonly lost: number;
}

/** Starts a relay-only video call in the page and keeps it in `window.call`. */
export function startCall(port: number, password: string): string {
  return `(async () => {
    const config = { iceServers: [{ urls: 'turn:127.0.0.1:${port}?transport=udp', username: '${USER}',
      credential: ${JSON.stringify(password)} }], iceTransportPolicy: 'relay' };
    const a = new RTCPeerConnection(config), b = new RTCPeerConnection(config);
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    const canvas = document.createElement('canvas');
    canvas.width = 320; canvas.height = 240;
    const context = canvas.getContext('2d');
    let frame = 0;
    const painter = setInterval(() => { context.fillStyle = 'hsl(' + (frame++ * 10) % 360 + ',80%,50%)'; context.fillRect(0, 0, 320, 240); }, 33);
    const stream = canvas.captureStream(30);
    for (const track of stream.getTracks()) a.addTrack(track, stream);
    await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
    window.call = { a, b, painter };
  })()`;
}

export const VIDEO = `(async () => {
  const { a, b } = window.call;
  const inbound = [...(await b.getStats()).values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
  return { ice: a.iceConnectionState, frames: inbound?.framesDecoded ?? 0, packets: inbound?.packetsReceived ?? 0,
    lost: inbound?.packetsLost ?? 0 };
})()`;

export const HANG_UP = `(() => { clearInterval(window.call.painter); window.call.a.close(); window.call.b.close(); })()`;
