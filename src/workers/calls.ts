// Request/response over a worker thread's port, both halves: every request gets an id, every reply names the id
// it answers ({id, result} or {id, error}), and the calling side keeps what it is owed, so it can fail all of it
// when the thread dies. The CT tree's thread and the log's SQLite writer speak it. The CA's issue pool and the
// log's validation pool keep protocols of their own: their messages carry batches answered in parts, out of order
// (and the log's SETs go over a second port), which is what makes them cheap per request.
import type { MessagePort, Transferable } from 'node:worker_threads';

export type CallReply = { id: number; result?: unknown; error?: string };

export interface Calls {
  /** Posts `request` with a fresh id (moving `transfer`); resolves with the reply's result, rejects with its error. */
  call<R>(request: object, transfer?: Transferable[]): Promise<R>;
  /** Takes a message from the thread; false when it answers no call (an event of the thread's own). */
  settle(message: unknown): boolean;
  /** The thread is gone: everything owed fails with `err`. */
  failAll(err: Error): void;
}

/**
 * The calling side. `post` sends one message; `busy`/`idle` are told when the first call becomes owed and the
 * last is answered (to ref/unref the worker, so that an idle thread does not keep the process alive); `error`
 * makes the Error a reply's error message is rejected with.
 */
export function callsOver(
  post: (message: object, transfer: Transferable[]) => void,
  hooks: { busy?: () => void; idle?: () => void; error?: (message: string) => Error } = {},
): Calls {
  const owed = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const done = (id: number) => {
    const p = owed.get(id);
    owed.delete(id);
    if (p && owed.size === 0) hooks.idle?.();
    return p;
  };
  return {
    call<R>(request: object, transfer: Transferable[] = []): Promise<R> {
      const id = nextId++;
      return new Promise<R>((resolve, reject) => {
        owed.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (owed.size === 1) hooks.busy?.();
        try {
          post({ ...request, id }, transfer);
        } catch (err) {
          // Not sent (e.g. a value that cannot be cloned): nothing is owed for it.
          done(id);
          reject(err);
        }
      });
    },
    settle(message: unknown): boolean {
      const m = message as Partial<CallReply>;
      if (typeof m?.id !== 'number' || !owed.has(m.id)) return false;
      const p = done(m.id);
      if (m.error !== undefined) p?.reject(hooks.error?.(m.error) ?? new Error(m.error));
      else p?.resolve(m.result);
      return true;
    },
    failAll(err: Error): void {
      const all = [...owed.values()];
      owed.clear();
      if (all.length) hooks.idle?.();
      for (const p of all) p.reject(err);
    },
  };
}

/**
 * The thread's side: answers each request on `port` with what `handle` returns (or throws). Requests are handled
 * in arrival order; a handler that returns a promise is answered when it settles, without holding up the next.
 */
export function answerCalls<Q extends { id: number }>(
  port: MessagePort,
  handle: (request: Q) => unknown,
): void {
  port.on('message', async (request: Q) => {
    try {
      const result = await handle(request);
      port.postMessage({ id: request.id, result } satisfies CallReply);
    } catch (err) {
      port.postMessage({ id: request.id, error: (err as Error).message } satisfies CallReply);
    }
  });
}
