// Free loopback ports for servers a test starts: the shared helper, which never hands out the same port twice
// in one process. The port is released before the server binds it, so another process could take it in
// between; on a test machine that race is rare, and the server then fails loudly.
export { freeTcpPort, freeUdpPort } from '../../helpers/process.ts';
