// Binding requests (RFC 8489 §7.3.1): plain STUN, answered on every listener without authentication.
import { XorMappedAddress } from '../../stun/attributes/address.ts';
import { mappedAddress } from '../mapped-address.ts';
import { reply, type Request } from '../request.ts';

export function handleBinding(req: Request): void {
  const { link } = req;
  reply(req, 200, {
    build: (w) => w.add(XorMappedAddress, mappedAddress(link)),
  });
}
