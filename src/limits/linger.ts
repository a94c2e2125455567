// Refusing a request whose body is still arriving (a manifest, blob, log entry or signing request over a limit, a
// chunk out of order, a missing token) and still getting the answer to the client. The connection cannot be kept, since the rest of the body may
// be gigabytes; but closing a socket while the client's bytes sit unread makes the kernel answer with a reset, and
// a client still writing its body then sees ECONNRESET instead of the 4xx (RFC 9112 §9.6 "Tear-down": "servers
// typically close a connection in stages"). So after the response the server half-closes (FIN), keeps reading and
// discarding what still arrives, and closes once the client has closed its side, after LINGER_MS, or after
// LINGER_BYTES more bytes, whichever comes first.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** Long enough for a client to read a small answer and stop sending, short enough not to hold sockets. */
export const LINGER_MS = 2_000;
/** A client that keeps sending after the answer is cut off once this much more has arrived. */
export const LINGER_BYTES = 16 * 1024 * 1024;

const LINGERING = Symbol('sigil.lingering');
type LingerSocket = Socket & { destroySoon(): void; [LINGERING]?: true };

/**
 * Makes this request's connection close in stages after the response. Call it while the request body is unread
 * and send the response with `Connection: close`: Node's HTTP server ends such an exchange with
 * `socket.destroySoon()` (FIN, then destroy once written, unread bytes or not), which is replaced, for this socket
 * only, by the lingering close.
 */
export function closeAfterResponse(req: IncomingMessage): void {
  const socket = req.socket as LingerSocket;
  if (socket.destroyed || socket[LINGERING]) return;
  socket[LINGERING] = true;
  socket.destroySoon = function lingeringClose(this: LingerSocket) {
    const start = this.bytesRead;
    const done = () => {
      clearTimeout(deadline);
      clearInterval(meter);
      if (!this.destroyed) this.destroy();
    };
    const deadline = setTimeout(done, LINGER_MS).unref();
    const meter = setInterval(() => {
      if (this.bytesRead - start > LINGER_BYTES) done();
    }, 50).unref();
    // The client closed its side: nothing more will arrive, and nothing unread remains.
    this.once('end', done);
    this.once('close', done);
    this.end();
    // The body's remaining bytes flow through the HTTP parser into a request nobody reads: discarded.
    req.resume();
  };
}
