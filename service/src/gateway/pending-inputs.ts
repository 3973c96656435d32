/**
 * Input requests of a 2025-era upstream for a 2026-07-28 caller. The upstream call stays open on the
 * replica that made it (the "owner"); its question goes back to the caller as an `input_required` round
 * whose sealed requestState names the pending call and the owner. The caller's retry may land on any
 * replica: there it is forwarded over Redis pub/sub to the owner, which hands the answer to the waiting
 * upstream request and replies with the next outcome (the result, or the next question).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { inputKeyHint, withoutInputKeyHint } from '../protocol/input-keys.js';
import { UpstreamErrorCode } from '../protocol/errors.js';
import type { InputAsk } from './call-context.js';

/** What one round ends with. */
export type RoundOutcome =
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'input'; round: number; asks: Record<string, InputAsk> }
  | { kind: 'error'; code: number; message: string; data?: unknown };

const Ask = z.object({ method: z.string(), params: z.record(z.string(), z.unknown()) });
const Outcome: z.ZodType<RoundOutcome> = z.union([
  z.object({ kind: z.literal('result'), result: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.literal('input'), round: z.number(), asks: z.record(z.string(), Ask) }),
  z.object({ kind: z.literal('error'), code: z.number(), message: z.string() }),
]);
const Forward = z.object({ id: z.string(), responses: z.record(z.string(), z.unknown()), replyTo: z.string() });

/** Questions an upstream asks together (in parallel) form one round; this long they may gather, ms. */
const GATHER_MS = 30;

/** One upstream call waiting for its caller. */
class PendingCall {
  private readonly outcomes: RoundOutcome[] = [];
  private waiter: ((o: RoundOutcome) => void) | undefined;
  private answers = new Map<string, (v: unknown) => void>();
  private gathering: Record<string, InputAsk> | undefined;
  private asked = 0;
  private rounds = 0;
  readonly abort = new AbortController();

  emit(o: RoundOutcome): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(o);
    } else this.outcomes.push(o);
  }

  ask(ask: InputAsk): Promise<unknown> {
    // An upstream that names its question (an MRTR-native server on a 2025-era session, input-keys.ts)
    // keeps its key, unless the name is already taken in this round; else a generated one.
    const hint = inputKeyHint(ask.params);
    const taken = (k: string) => this.answers.has(k) || (this.gathering !== undefined && k in this.gathering);
    const key = hint !== undefined && !taken(hint) ? hint : this.generatedKey(taken);
    if (!this.gathering) {
      const asks: Record<string, InputAsk> = {};
      this.gathering = asks;
      setTimeout(() => {
        this.gathering = undefined;
        this.emit({ kind: 'input', round: ++this.rounds, asks });
      }, GATHER_MS);
    }
    this.gathering[key] = { method: ask.method, params: withoutInputKeyHint(ask.params) };
    return new Promise((resolve) => this.answers.set(key, resolve));
  }

  private generatedKey(taken: (k: string) => boolean): string {
    let key: string;
    do key = `upstream_input_${++this.asked}`;
    while (taken(key));
    return key;
  }

  next(timeoutMs: number): Promise<RoundOutcome> {
    const queued = this.outcomes.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ kind: 'error', code: UpstreamErrorCode.Timeout, message: 'the upstream did not answer in time' });
      }, timeoutMs);
      this.waiter = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
    });
  }

  /** Hands the caller's answers to the waiting upstream requests; false when one of them is missing. */
  respond(responses: Record<string, unknown>): boolean {
    if (this.answers.size === 0 || [...this.answers.keys()].some((k) => !(k in responses))) return false;
    const waiting = [...this.answers];
    this.answers.clear();
    for (const [key, resolve] of waiting) resolve(responses[key]);
    return true;
  }
}

/** Options of PendingInputs. */
export interface PendingInputsOptions {
  readonly redis: Redis;
  /** A dedicated connection (enters subscriber mode; closed by close()). */
  readonly subscriber: Redis;
  readonly keyPrefix: string;
  readonly replicaId: string;
  /** How long a pending call waits for the caller's retry, ms. @defaultValue 300000 */
  readonly ttlMs?: number;
  /** How long one round may take (upstream work until its result or next question), ms. */
  readonly roundMs: number;
}

/** Pending upstream calls of this replica and the cross-replica forwarding of answers. */
export class PendingInputs {
  private readonly calls = new Map<string, PendingCall>();
  private readonly expiries = new Map<string, NodeJS.Timeout>();
  private readonly replies = new Map<string, (o: RoundOutcome) => void>();
  private readonly channel: string;

  constructor(private readonly opts: PendingInputsOptions) {
    this.channel = `${opts.keyPrefix}fed:pending:${opts.replicaId}`;
  }

  get replicaId(): string {
    return this.opts.replicaId;
  }

  /** Subscribes to answers forwarded to this replica and to replies for forwards it sent. */
  async start(): Promise<void> {
    this.opts.subscriber.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) void this.onForward(raw);
      else this.replies.get(channel)?.(Outcome.parse(JSON.parse(raw)));
    });
    await this.opts.subscriber.subscribe(this.channel);
  }

  /** Starts an upstream call whose input requests become rounds; resolves with the first outcome. */
  begin(run: (ask: (a: InputAsk) => Promise<unknown>, signal: AbortSignal) => Promise<Record<string, unknown>>): { id: string; first: Promise<RoundOutcome> } {
    const id = randomUUID();
    const call = new PendingCall();
    this.calls.set(id, call);
    const expiry = setTimeout(() => this.drop(id), this.opts.ttlMs ?? 300_000);
    expiry.unref();
    this.expiries.set(id, expiry);
    run((a) => call.ask(a), call.abort.signal).then(
      (result) => call.emit({ kind: 'result', result }),
      (err: unknown) => {
        const { code, data } = err as { code?: number; data?: unknown };
        call.emit({ kind: 'error', code: code ?? -32603, message: err instanceof Error ? err.message : String(err), ...(data !== undefined && { data }) });
      },
    );
    const first = call.next(this.opts.roundMs).then((o) => this.settle(id, o));
    return { id, first };
  }

  /** Continues pending call `id` owned by `owner` with the caller's answers (forwarded when remote). */
  async resume(id: string, owner: string, responses: Record<string, unknown>): Promise<RoundOutcome> {
    if (owner === this.opts.replicaId) return this.resumeLocal(id, responses);
    const replyTo = `${this.opts.keyPrefix}fed:reply:${randomUUID()}`;
    const reply = new Promise<RoundOutcome>((resolve) => {
      const timer = setTimeout(
        () =>
          resolve({
            kind: 'error',
            code: UpstreamErrorCode.Unavailable,
            message: 'the replica holding the upstream call did not answer (it may have stopped); call the tool again',
          }),
        this.opts.roundMs + 2_000,
      );
      this.replies.set(replyTo, (o) => {
        clearTimeout(timer);
        resolve(o);
      });
    });
    await this.opts.subscriber.subscribe(replyTo);
    try {
      const receivers = await this.opts.redis.publish(`${this.opts.keyPrefix}fed:pending:${owner}`, JSON.stringify({ id, responses, replyTo }));
      if (receivers === 0)
        return { kind: 'error', code: UpstreamErrorCode.Unavailable, message: 'the replica holding the upstream call is gone; call the tool again' };
      return await reply;
    } finally {
      this.replies.delete(replyTo);
      await this.opts.subscriber.unsubscribe(replyTo).catch(() => undefined);
    }
  }

  /** Aborts pending call `id` (its caller went away before the round's outcome). */
  cancel(id: string): void {
    this.drop(id);
  }

  /** Aborts every pending call. */
  close(): void {
    for (const id of [...this.calls.keys()]) this.drop(id);
  }

  private async resumeLocal(id: string, responses: Record<string, unknown>): Promise<RoundOutcome> {
    const call = this.calls.get(id);
    if (!call) return { kind: 'error', code: -32602, message: 'the upstream call behind this requestState is gone (expired or finished); call the tool again' };
    if (!call.respond(responses)) return { kind: 'error', code: -32602, message: 'inputResponses do not answer the pending input request' };
    return this.settle(id, await call.next(this.opts.roundMs));
  }

  private settle(id: string, o: RoundOutcome): RoundOutcome {
    if (o.kind !== 'input') this.drop(id);
    return o;
  }

  private drop(id: string): void {
    clearTimeout(this.expiries.get(id));
    this.expiries.delete(id);
    const call = this.calls.get(id);
    if (!call) return;
    this.calls.delete(id);
    call.abort.abort(new Error('pending upstream call dropped'));
  }

  private async onForward(raw: string): Promise<void> {
    const msg = Forward.safeParse(JSON.parse(raw));
    if (!msg.success) return;
    const outcome = await this.resumeLocal(msg.data.id, msg.data.responses);
    await this.opts.redis.publish(msg.data.replyTo, JSON.stringify(outcome)).catch(() => undefined);
  }
}
