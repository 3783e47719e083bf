// A relay-only video call between two RTCPeerConnections in one Chromium page (see chromium.ts), kept in
// `window.call` so that a test can read its stats while it changes the gateway under it.

export interface Video {
  readonly ice: string;
  readonly frames: number;
  readonly packets: number;
  readonly lost: number;
  /** RTP payload bytes the receiver got. */
  readonly bytes: number;
}

/**
 * Page script declaring `a` and `b`: two RTCPeerConnections that may only use relayed candidates of the TURN
 * server at `url`, each handing its candidates to the other.
 */
export function relayOnlyPeers(url: string, username: string, credential: string): string {
  return `const config = { iceServers: [{ urls: ${JSON.stringify(url)}, username: ${JSON.stringify(username)},
      credential: ${JSON.stringify(credential)} }], iceTransportPolicy: 'relay' };
    const a = new RTCPeerConnection(config), b = new RTCPeerConnection(config);
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);`;
}

/** Starts a relay-only video call through the TURN server at `url` and keeps it in `window.call`. */
export function startCall(url: string, username: string, credential: string): string {
  return `(async () => {
    ${relayOnlyPeers(url, username, credential)}
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
    lost: inbound?.packetsLost ?? 0, bytes: inbound?.bytesReceived ?? 0 };
})()`;

export const HANG_UP = `(() => { clearInterval(window.call.painter); window.call.a.close(); window.call.b.close(); })()`;
