// A UDP echo media server for a namespace: one dual-stack socket on [::]:PORT (v4 and v6 peers alike) that sends
// every datagram back to its source. Prints `ready PORT`. Usage: node udp-echo.ts [PORT]
import { createSocket } from 'node:dgram';

const s = createSocket({ type: 'udp6', ipv6Only: false });
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(Number(process.argv[2] ?? 0), '::', () => console.log(`ready ${s.address().port}`));
