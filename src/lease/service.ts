// The lease service core: Consul's session/KV operations on top of a Raft node, with everything
// time-related on an injected monotonic clock (so the simulator can run it in virtual time).
//
// Two roles in one object:
//   - the FRONT DOOR (`handle`) for this host's LiteFS: reads go through a ReadIndex barrier
//     locally; writes and renews run on the Raft leader (here, or forwarded). It tracks which
//     sessions are this host's, their renew deadlines and quorum contact, and publishes that for
//     the app's write gate. A renew of a session whose deadline passed or that lost quorum contact
//     while holding the lease is answered 404 (LiteFS demotes at once) and the session destroyed.
//   - the LEADER (`execute`): session expiry timers (multiplier x TTL after the last renew, reset
//     when leadership changes, cleared on step-down), lock-delay checks, renews confirmed by
//     ReadIndex before they are answered.

import { randomUUID } from "node:crypto";
import { isNotLeaderError } from "../raft/errors.js";
import { encodeLeaseCommand, type LeaseCommand, type SessionHolder } from "./commands.js";
import { ABSOLUTE_MIN_TTL_MS } from "./limits.js";
import { MemberSilenceWatch } from "./member-silence.js";
import { leaseRequestRefusal, type LeasePolicy } from "./rules.js";
import type { LeaseChange, LeaseResult, LeaseStateMachine, SessionRecord } from "./state-machine.js";
import {
  SAFE_LEASE_KNOBS,
  type Forwarder,
  type LeaseClock,
  type LeaseKnobs,
  type LeaseReply,
  type LeaseRequest,
  type PublishedLeaseState,
  type RaftPort,
} from "./types.js";

export interface LeaseServiceOptions {
  readonly raft: RaftPort;
  readonly stateMachine: LeaseStateMachine;
  readonly clock: LeaseClock;
  /** This host's LiteFS hostname (published for the gate). */
  readonly nodeName: string;
  /** The Consul key LiteFS locks (CONSUL_LEASE.key). */
  readonly leaseKey: string;
  /** litefs-node's member directory keys, served with plain GET/PUT (rules.ts). Default none. */
  readonly directoryKeys?: readonly string[];
  readonly forward?: Forwarder;
  /** Where this node accepts forwarded requests; announced in the log when it becomes leader. */
  readonly forwardAddr?: string | null;
  /** Sessions with a shorter TTL are refused (Consul-style 400). Default 5000 ms, at least 1000. */
  readonly minTtlMs?: number;
  /** Quorum contact older than this while holding the lease = split brain. Default 2000 ms. */
  readonly quorumGraceMs?: number;
  /** How often quorum contact is probed with a ReadIndex round. Default 200 ms. */
  readonly probeIntervalMs?: number;
  /** Called with the new state whenever it may have changed (written to the lease state file). */
  readonly publish?: (state: PublishedLeaseState) => void;
  /** Converts the clock's ms to absolute hrtime ns for publishing. Default: ms x 1e6. */
  readonly toHrtimeNs?: (ms: number) => bigint;
  readonly onEvent?: (event: LeaseServiceEvent) => void;
  readonly knobs?: Partial<LeaseKnobs>;
}

export type LeaseServiceEvent =
  | { readonly type: "expired"; readonly session: string }
  | { readonly type: "member-silent"; readonly session: string; readonly member: string; readonly silentMs: number }
  | { readonly type: "refused-renew"; readonly session: string; readonly reason: string }
  | { readonly type: "announce-failed"; readonly error: Error };

const DEFAULT_MIN_TTL_MS = 5000;
const DEFAULT_QUORUM_GRACE_MS = 2000;
/**
 * Longest an acquire waits on the leader for a lock-delay to end instead of answering false
 * (LiteFS would retry 1 s later). Well inside the answer deadline D = 1 s, forwarding included.
 */
export const ACQUIRE_HOLD_MAX_MS = 600;

interface LocalSession {
  /** Clock ms: last quorum-confirmed renew (or create) start + TTL; null when unknown (no TTL). */
  deadline: number | null;
  ttlMs: number;
  /** Lost quorum contact while holding the lease: the next renew gets 404. */
  refused: string | null;
}

const unavailable = (message: string): LeaseReply => ({ kind: "error", status: 500, message });

/** The reply for a command the state machine refused at apply (or would refuse: `budgetStatus`). */
function refusedReply(result: LeaseResult, budgetStatus: 429 | 507): LeaseReply {
  const message = result.error ?? "refused";
  if (result.refusal === "budget") return { kind: "error", status: budgetStatus, message };
  if (result.refusal === "invalid") return { kind: "error", status: 400, message };
  return unavailable(message);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class LeaseService {
  private readonly raft: RaftPort;
  private readonly sm: LeaseStateMachine;
  private readonly clock: LeaseClock;
  private readonly knobs: LeaseKnobs;
  /** What this node serves (rules.ts); the HTTP front end refuses with the same policy. */
  readonly policy: LeasePolicy;
  private readonly graceMs: number;
  private readonly probeIntervalMs: number;
  private readonly emit: (e: LeaseServiceEvent) => void;
  private readonly toNs: (ms: number) => bigint;

  /** Leader only: session id -> expiry timer. */
  private readonly timers = new Map<string, unknown>();
  /** Leader only: sessions whose expiry is being committed (renew answers 404). */
  private readonly expiring = new Set<string>();
  /** Every node: apply time of each session (only used with the timer-reset rule switched off). */
  private readonly appliedAt = new Map<string, number>();
  private readonly local = new Map<string, LocalSession>();
  private leaderTerm = -1;
  private lastContact: number | null = null;
  private probing = false;
  private probeTimer: unknown = null;
  private closed = false;
  private refusedRenews = 0;
  /** Leader only: ends sessions whose holder member went silent (null when the rule is off). */
  private readonly silence: MemberSilenceWatch | null;

  constructor(private readonly options: LeaseServiceOptions) {
    this.raft = options.raft;
    this.sm = options.stateMachine;
    this.clock = options.clock;
    this.knobs = { ...SAFE_LEASE_KNOBS, ...(options.knobs ?? {}) };
    const minTtlMs = options.minTtlMs ?? DEFAULT_MIN_TTL_MS;
    if (!(minTtlMs >= ABSOLUTE_MIN_TTL_MS))
      throw new RangeError(`minTtlMs must be at least ${ABSOLUTE_MIN_TTL_MS} ms, got ${minTtlMs}`);
    this.policy = Object.freeze({
      leaseKey: options.leaseKey,
      minTtlMs,
      directoryKeys: Object.freeze([...(options.directoryKeys ?? [])]),
    });
    this.graceMs = options.quorumGraceMs ?? DEFAULT_QUORUM_GRACE_MS;
    this.probeIntervalMs = options.probeIntervalMs ?? 200;
    this.emit = options.onEvent ?? (() => {});
    this.toNs = options.toHrtimeNs ?? ((ms) => BigInt(Math.round(ms * 1e6)));
    const marginMs = this.knobs.memberSilenceMarginMs;
    this.silence =
      marginMs === null
        ? null
        : new MemberSilenceWatch({
            clock: this.clock,
            marginMs,
            self: () => this.raft.status().id,
            sessions: () => this.sm.allSessions(),
            heardFrom: (member) => this.raft.heardFrom(member),
            takeoverBound: () => this.raft.takeoverBound(),
            onSilent: (session, silentMs) => this.endSilentSession(session, silentMs),
          });
  }

  /** Starts the quorum-contact probe loop. */
  start(): void {
    this.scheduleProbe(0);
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer !== null) this.clock.clearTimer(this.probeTimer);
    this.probeTimer = null;
    this.silence?.stop();
    this.clearTimers();
  }

  /** Renews answered 404 because this host's lease was found unsafe. */
  get refusedRenewCount(): number {
    return this.refusedRenews;
  }

  get lastQuorumContact(): number | null {
    return this.lastContact;
  }

  // ================================================================== Raft hooks

  /** Wire to the state machine's onChange. */
  onStateChange(change: LeaseChange): void {
    const now = this.clock.now();
    switch (change.type) {
      case "session-created":
        this.appliedAt.set(change.session.id, now);
        if (this.isLeaderNow()) this.armTimer(change.session, this.knobs.ttlMultiplier * change.session.ttlMs);
        break;
      case "session-invalidated":
        this.appliedAt.delete(change.id);
        this.disarmTimer(change.id);
        this.expiring.delete(change.id);
        break;
      case "restored":
        this.appliedAt.clear();
        for (const s of this.sm.allSessions()) this.appliedAt.set(s.id, now);
        if (this.isLeaderNow()) this.resetAllTimers();
        break;
      case "kv-changed":
        break;
    }
    if (change.type !== "session-created") {
      this.forgetMovedSession();
      this.publishNow();
    }
  }

  /** Wire to the runner's role events. */
  onRoleChange(role: string, term: number): void {
    if (role === "leader") {
      if (this.leaderTerm !== term) {
        this.leaderTerm = term;
        this.resetAllTimers();
        this.silence?.start();
        this.announce();
      }
    } else if (this.leaderTerm !== -1) {
      // A step-down clears every timer: only the leader expires sessions.
      this.leaderTerm = -1;
      this.clearTimers();
      this.silence?.stop();
    }
    this.publishNow();
  }

  // ================================================================== front door

  /** One request from this host's LiteFS. `startedAt` = clock ms when it arrived. */
  async handle(request: LeaseRequest, startedAt: number, budgetMs: number): Promise<LeaseReply> {
    if (request.op === "session-renew") {
      const refusal = this.renewRefusal(request.id, startedAt);
      if (refusal) {
        this.refusedRenews++;
        this.local.delete(request.id);
        this.emit({ type: "refused-renew", session: request.id, reason: refusal });
        // Best effort: with the key freed another node can take over after lock-delay. LiteFS
        // demotes on this 404 at once; if the destroy cannot commit, the TTL expires it.
        void this.route({ op: "session-destroy", id: request.id, reason: "split-brain" }, budgetMs).catch(() => {});
        this.publishNow();
        return { kind: "renewed", session: null };
      }
    }
    const ranHere = this.raft.status().role === "leader";
    const reply = await this.route(this.withHolder(request), budgetMs);
    this.noteLocal(request, reply, startedAt, ranHere);
    return reply;
  }

  /**
   * This host's LiteFS has exited (`litefs-node run` saw the process end): end the sessions it
   * holds now, so another node can acquire after lock-delay instead of after the member-silence
   * or TTL wait. Safe because a LiteFS that exited cannot write any more (its FUSE mount is gone,
   * and so is every write through it). A session that a handoff moved to another member is that
   * member's and is left alone. Resolves with the number of sessions ended.
   */
  async endLocalSessions(budgetMs: number): Promise<number> {
    const self = this.raft.status().id;
    const mine = this.sm
      .allSessions()
      .filter((s) => (s.holder ? s.holder.member === self : this.local.has(s.id)))
      .map((s) => s.id);
    if (mine.length === 0) return 0;
    // A destroy that cannot commit in time is left to the member-silence rule or the TTL.
    const replies = await Promise.all(
      mine.map((id) =>
        this.settleWithin(
          this.route({ op: "session-destroy", id, reason: "destroy" }, budgetMs).catch((e: unknown) =>
            unavailable(describe(e)),
          ),
          budgetMs,
          () => unavailable(`not ended within ${budgetMs} ms`),
        ),
      ),
    );
    for (const id of mine) this.local.delete(id);
    this.publishNow();
    return replies.filter((r) => r.kind === "bool" && r.value).length;
  }

  /** Session creates and acquires record this member as the session's holder (member-silence.ts). */
  private withHolder(request: LeaseRequest): LeaseRequest {
    const acquiring = request.op === "kv-put" && request.lock === "acquire";
    if (request.op !== "session-create" && !acquiring) return request;
    const holder: SessionHolder = { member: this.raft.status().id, graceMs: Math.ceil(this.graceMs) };
    return { ...request, holder };
  }

  private async route(request: LeaseRequest, budgetMs: number): Promise<LeaseReply> {
    if (request.op === "kv-get") return this.readLocal(request.key);
    const status = this.raft.status();
    if (status.role === "leader") return this.execute(request, budgetMs);
    if (status.leader === null) return unavailable("no Raft leader is known (election in progress or no quorum)");
    if (!this.options.forward)
      return unavailable(`not the Raft leader (the leader is ${status.leader}) and forwarding is not configured`);
    try {
      return await this.options.forward(status.leader, request, budgetMs);
    } catch (e) {
      return unavailable(`forwarding to the Raft leader ${status.leader} failed: ${describe(e)}`);
    }
  }

  private async readLocal(key: string): Promise<LeaseReply> {
    try {
      await this.raft.read();
    } catch (e) {
      return unavailable(`linearizable read failed: ${describe(e)}`);
    }
    return { kind: "kv", entry: this.sm.get(key), index: this.sm.kvTableIndex };
  }

  private renewRefusal(id: string, now: number): string | null {
    const mine = this.local.get(id);
    if (!mine) return null;
    if (mine.refused) return mine.refused;
    if (mine.deadline !== null && now > mine.deadline) {
      return `the renew came ${Math.round(now - mine.deadline)} ms after the lease deadline (LiteFS or this host was paused)`;
    }
    return null;
  }

  private noteLocal(request: LeaseRequest, reply: LeaseReply, startedAt: number, ranHere: boolean): void {
    let changed = true;
    if (request.op === "session-create" && reply.kind === "created") {
      this.local.set(reply.id, {
        deadline: request.ttlMs > 0 ? startedAt + request.ttlMs : null,
        ttlMs: request.ttlMs,
        refused: null,
      });
    } else if (request.op === "session-renew" && reply.kind === "renewed") {
      if (reply.session) {
        const ttlMs = reply.session.ttlMs;
        this.local.set(request.id, { deadline: ttlMs > 0 ? startedAt + ttlMs : null, ttlMs, refused: null });
      } else this.local.delete(request.id);
    } else if (request.op === "session-destroy" && reply.kind === "bool") {
      this.local.delete(request.id);
    } else if (
      request.op === "kv-put" &&
      request.lock === "acquire" &&
      reply.kind === "bool" &&
      reply.value &&
      request.session
    ) {
      // Handoff: a session created on another host, renewed (R5) then acquired (R4) here.
      if (!this.local.has(request.session))
        this.local.set(request.session, { deadline: null, ttlMs: 0, refused: null });
    } else changed = false;
    // A committed write or a confirmed renew proves quorum contact as of the request's arrival,
    // when this node ran it as leader. A forwarded one does not count: it reached the leader
    // outside Raft, so the leader's silence count (member-silence.ts) would not see it.
    const confirmed =
      reply.kind === "created" || reply.kind === "bool" || (reply.kind === "renewed" && reply.session !== null);
    if (ranHere && confirmed && request.op !== "kv-get" && (this.lastContact === null || startedAt > this.lastContact))
      this.lastContact = startedAt;
    if (changed || request.op === "kv-put") this.publishNow();
  }

  // ================================================================== leader

  /**
   * Runs a request on this node as the Raft leader (also for requests forwarded by followers).
   * `budgetMs`: how long the answer may take (an acquire may wait out a short lock-delay).
   */
  async execute(request: LeaseRequest, budgetMs: number = ACQUIRE_HOLD_MAX_MS + 100): Promise<LeaseReply> {
    // Forwarded requests never passed this node's HTTP front end: the same rules again.
    const refusal = leaseRequestRefusal(request, this.policy);
    if (refusal !== null) return { kind: "error", ...refusal };
    if (request.op === "kv-get") return this.readLocal(request.key);
    const status = this.raft.status();
    if (status.role !== "leader") {
      return unavailable(`not the Raft leader${status.leader ? ` (the leader is ${status.leader})` : ""}`);
    }
    switch (request.op) {
      case "session-create": {
        const id = randomUUID();
        const cmd: LeaseCommand = {
          op: "session-create",
          session: {
            id,
            name: request.name,
            node: request.node,
            ttl: request.ttl,
            ttlMs: request.ttlMs,
            lockDelayNs: request.lockDelayNs,
            behavior: request.behavior,
            ...(request.holder ? { holder: request.holder } : {}),
          },
        };
        const overBudget = this.sm.budgetProblem(cmd);
        if (overBudget !== null) return { kind: "error", status: 429, message: overBudget };
        const r = await this.propose(cmd);
        if ("kind" in r) return r;
        return r.ok ? { kind: "created", id } : refusedReply(r, 429);
      }
      case "session-renew":
        return this.renew(request.id, status.term);
      case "session-destroy": {
        const r = await this.propose({ op: "session-destroy", id: request.id, reason: request.reason });
        // Consul answers true even for unknown sessions.
        return "kind" in r ? r : { kind: "bool", value: true };
      }
      case "kv-put": {
        if (request.lock === "acquire") {
          if (!request.session || !this.sm.session(request.session))
            return unavailable(`invalid session "${request.session ?? ""}"`);
          if (this.knobs.lockDelay && (await this.lockDelayed(request.key, budgetMs)))
            return { kind: "bool", value: false };
          if (this.raft.status().term !== status.term) return unavailable("Raft leadership changed during the acquire");
        }
        const cmd: LeaseCommand = {
          op: "kv-set",
          key: request.key,
          value: request.value,
          flags: request.flags,
          lock: request.lock,
          session: request.session,
          ...(request.holder ? { holder: request.holder } : {}),
        };
        const overBudget = this.sm.budgetProblem(cmd);
        if (overBudget !== null) return { kind: "error", status: 507, message: overBudget };
        const r = await this.propose(cmd);
        if ("kind" in r) return r;
        if (r.error) return refusedReply(r, 507);
        return { kind: "bool", value: r.ok };
      }
    }
  }

  /**
   * Whether `key` is still under lock-delay. A delay ending within the answer budget is waited
   * out: LiteFS retries a refused acquire only 1 s later, which would add up to 1 s to failover.
   */
  private async lockDelayed(key: string, budgetMs: number): Promise<boolean> {
    const until = this.sm.lockDelayUntil(key);
    if (until === 0) return false;
    const waitMs = until - this.clock.now() + 1;
    if (waitMs > Math.min(ACQUIRE_HOLD_MAX_MS, budgetMs - 100)) return true;
    await new Promise<void>((resolve) => this.clock.setTimer(resolve, waitMs));
    return this.sm.lockDelayUntil(key) > 0;
  }

  private async renew(id: string, term: number): Promise<LeaseReply> {
    if (!this.sm.session(id) || this.expiring.has(id)) return { kind: "renewed", session: null };
    if (this.knobs.renewReadIndex) {
      try {
        await this.raft.read();
      } catch (e) {
        return unavailable(`could not confirm Raft leadership for the renew: ${describe(e)}`);
      }
      const now = this.raft.status();
      if (now.role !== "leader" || now.term !== term) return unavailable("lost Raft leadership while renewing");
    }
    const session = this.sm.session(id);
    if (!session || this.expiring.has(id)) return { kind: "renewed", session: null };
    this.armTimer(session, this.knobs.ttlMultiplier * session.ttlMs);
    return { kind: "renewed", session };
  }

  private async propose(cmd: LeaseCommand, options?: { fenceReads?: boolean }): Promise<LeaseResult | LeaseReply> {
    try {
      return await this.raft.propose(encodeLeaseCommand(cmd), options);
    } catch (e) {
      if (isNotLeaderError(e)) return unavailable(`not the Raft leader: ${e.message}`);
      return unavailable(`Raft could not commit the change: ${describe(e)}`);
    }
  }

  private isLeaderNow(): boolean {
    return this.leaderTerm !== -1 && this.raft.status().role === "leader";
  }

  private resetAllTimers(): void {
    this.clearTimers();
    const now = this.clock.now();
    for (const s of this.sm.allSessions()) {
      if (this.knobs.resetTimersOnLeaderChange) this.armTimer(s, this.knobs.ttlMultiplier * s.ttlMs);
      else {
        // Mutation: keep the deadline a replica computed at apply time, ignoring renews it never saw.
        const since = this.appliedAt.get(s.id) ?? now;
        this.armTimer(s, Math.max(0, since + this.knobs.ttlMultiplier * s.ttlMs - now));
      }
    }
  }

  private armTimer(session: SessionRecord, ms: number): void {
    if (session.ttlMs <= 0) return;
    this.disarmTimer(session.id);
    const handle = this.clock.setTimer(() => this.expire(session.id), ms);
    this.timers.set(session.id, handle);
  }

  private disarmTimer(id: string): void {
    const handle = this.timers.get(id);
    if (handle !== undefined) this.clock.clearTimer(handle);
    this.timers.delete(id);
  }

  private clearTimers(): void {
    for (const handle of this.timers.values()) this.clock.clearTimer(handle);
    this.timers.clear();
    this.expiring.clear();
  }

  /** The holder's member has been silent past its grace + margin: end the session (MemberSilenceWatch). */
  private endSilentSession(session: SessionRecord, silentMs: number): void {
    if (this.expiring.has(session.id) || !session.holder) return;
    this.disarmTimer(session.id);
    const member = session.holder.member;
    const event: LeaseServiceEvent = {
      type: "member-silent",
      session: session.id,
      member,
      silentMs: Math.round(silentMs),
    };
    this.expire(session.id, event, { onlyIfHolder: member });
  }

  /**
   * Ends a session by a committed destroy. `silence.onlyIfHolder` (member silence): applied only
   * while that member still holds it (a handoff committed first moves the session to a member that
   * was not judged). It also fences reads: should the member be back before the destroy commits,
   * its next gate probe (a read) completes only once it applied the end. Its own service has
   * already stopped trusting the session by then (a contact gap past the grace, checked before any
   * new read can complete), so the fence is a second guard, not the only one.
   */
  private expire(
    id: string,
    event: LeaseServiceEvent = { type: "expired", session: id },
    silence?: { onlyIfHolder: string },
  ): void {
    this.timers.delete(id);
    if (this.closed || !this.isLeaderNow() || !this.sm.session(id)) return;
    this.expiring.add(id);
    this.emit(event);
    const destroy: LeaseCommand = {
      op: "session-destroy",
      id,
      reason: "expired",
      ...(silence && this.knobs.silenceEndChecksHolder ? { onlyIfHolder: silence.onlyIfHolder } : {}),
    };
    void this.propose(destroy, { fenceReads: silence !== undefined }).then((r) => {
      if (!("kind" in r) && (r.ok || !this.sm.session(id))) return;
      this.expiring.delete(id);
      const session = this.sm.session(id);
      if (!session || !this.isLeaderNow() || this.closed) return;
      // Committed but not applied (the holder moved): the session lives on under its new holder,
      // whose silence and TTL count from now. Not committed (yet): try again soon.
      this.armTimer(session, "kind" in r ? 1000 : this.knobs.ttlMultiplier * session.ttlMs);
    });
  }

  private announce(): void {
    const addr = this.options.forwardAddr;
    if (!addr) return;
    const id = this.raft.status().id;
    if (this.sm.forwardAddr(id) === addr) return;
    void this.propose({ op: "announce", node: id, forwardAddr: addr }).then((r) => {
      if ("kind" in r && r.kind === "error") this.emit({ type: "announce-failed", error: new Error(r.message) });
    });
  }

  // ================================================================== quorum contact + publishing

  private scheduleProbe(ms: number): void {
    if (this.closed) return;
    this.probeTimer = this.clock.setTimer(() => {
      this.probeTimer = null;
      void this.probe();
    }, ms);
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    const started = this.clock.now();
    // Bounded well below the grace: a read issued by a stale leader (e.g. just after a pause) is
    // never answered, and waiting for Raft's own read timeout would hide a healthy cluster.
    // No leader or no quorum: contact simply does not advance.
    const confirmed = await this.settleWithin(
      this.raft.read().then(
        () => true,
        () => false,
      ),
      Math.max(100, this.graceMs / 4),
      () => false,
    );
    this.probing = false;
    if (confirmed && (this.lastContact === null || started > this.lastContact)) this.lastContact = started;
    this.checkContact();
    this.publishNow();
    this.scheduleProbe(this.probeIntervalMs);
  }

  /** `work`'s result, or `late()` if `ms` pass first on the service's clock (the timer is cleared either way). */
  private async settleWithin<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
    let timer: unknown = null;
    const deadline = new Promise<T>((resolve) => {
      timer = this.clock.setTimer(() => resolve(late()), ms);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      this.clock.clearTimer(timer);
    }
  }

  /** Holding the lease without quorum contact for longer than the grace: refuse the next renew. */
  private checkContact(): void {
    const holder = this.localHolder();
    if (!holder || holder.refused) return;
    const gap = this.lastContact === null ? Infinity : this.clock.now() - this.lastContact;
    if (gap > this.graceMs)
      holder.refused = `no quorum contact for ${Number.isFinite(gap) ? Math.round(gap) : "ever"} ms while holding the lease`;
  }

  /**
   * This host's record of the session holding the lease key, when this host holds it: the key's
   * value names this node (LiteFS writes its hostname there on acquire). After a handoff the same
   * session holds the key for another node; the old holder's record is dropped then
   * (forgetMovedSession), and until that change is applied here the hostname already tells.
   */
  private localHolder(): LocalSession | null {
    const entry = this.sm.get(this.options.leaseKey);
    const sid = entry?.session ?? null;
    if (sid === null) return null;
    const named = primaryHostname(entry?.value ?? null);
    if (named !== null && named !== this.options.nodeName) return null;
    return this.local.get(sid) ?? null;
  }

  /**
   * Handoff moves a session between hosts: it is renewed (R5) and then acquired (R4) with the
   * same id on the new host. The former holder must forget its record of it (renew deadline, a
   * refusal), or a later handoff back is refused as "renew after the deadline" and it keeps
   * publishing itself as holder.
   */
  private forgetMovedSession(): void {
    const entry = this.sm.get(this.options.leaseKey);
    const sid = entry?.session ?? null;
    if (sid === null || !this.local.has(sid)) return;
    const named = primaryHostname(entry?.value ?? null);
    if (named !== null && named !== this.options.nodeName) this.local.delete(sid);
  }

  /** The state the app's write gate reads. */
  publishedState(pid: number = process.pid): PublishedLeaseState {
    const entry = this.sm.get(this.options.leaseKey);
    const leaseSession = entry?.session ?? null;
    const mine = this.localHolder() ?? undefined;
    const raft = this.raft.status();
    return {
      v: 1,
      pid,
      node: this.options.nodeName,
      raftId: raft.id,
      updatedNs: this.toNs(this.clock.now()).toString(),
      leaseSession,
      primary: primaryHostname(entry?.value ?? null),
      holder: mine !== undefined,
      refused: mine?.refused != null,
      deadlineNs: mine && mine.deadline !== null ? this.toNs(mine.deadline).toString() : null,
      contactNs: this.lastContact === null ? null : this.toNs(this.lastContact).toString(),
      graceMs: this.graceMs,
      raft: { term: raft.term, role: raft.role, leader: raft.leader },
    };
  }

  private publishNow(): void {
    if (this.closed || !this.options.publish) return;
    this.options.publish(this.publishedState());
  }
}

/** The `hostname` in LiteFS's primary-info JSON value (base64), or null. */
function primaryHostname(valueBase64: string | null): string | null {
  if (!valueBase64) return null;
  try {
    const info = JSON.parse(Buffer.from(valueBase64, "base64").toString("utf8")) as { hostname?: unknown };
    return typeof info.hostname === "string" ? info.hostname : null;
  } catch {
    return null;
  }
}
