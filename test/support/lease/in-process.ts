// A lease service + Consul HTTP front end in this process, on a SingleNodeRaft (see local-raft.ts),
// for wire-level tests. Listens on 127.0.0.1, ephemeral port.
import { startConsulHttpServer } from "../../../src/lease/consul-http.js";
import type { LeaseService, LeaseServiceOptions } from "../../../src/lease/service.js";
import type { LeaseStateMachine } from "../../../src/lease/state-machine.js";
import type { LeaseClock, PublishedLeaseState } from "../../../src/lease/types.js";
import { realClock } from "../../../src/lease/lease-service.js";
import { leaseServiceOn, type SingleNodeRaft } from "./local-raft.js";

/** The token in-process lease services require unless a test sets another. */
const IN_PROCESS_TOKEN = "in-process-test-token";

export interface InProcessLease {
  readonly url: string;
  readonly token: string;
  readonly raft: SingleNodeRaft;
  readonly sm: LeaseStateMachine;
  readonly service: LeaseService;
  readonly published: PublishedLeaseState[];
  close(): Promise<void>;
}

export async function startInProcessLease(
  options: { token?: string; deadlineMs?: number; clock?: LeaseClock; service?: Partial<LeaseServiceOptions> } = {},
): Promise<InProcessLease> {
  const clock = options.clock ?? realClock;
  const { sm, raft, service: svc, published } = leaseServiceOn(clock, options.service);
  const http = await startConsulHttpServer({
    port: 0,
    handle: (r, at, budget) => svc.handle(r, at, budget),
    now: () => clock.now(),
    nodeName: "node-a",
    token: options.token ?? IN_PROCESS_TOKEN,
    policy: svc.policy,
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
  });
  return {
    url: `http://127.0.0.1:${http.port}`,
    token: options.token ?? IN_PROCESS_TOKEN,
    raft,
    sm,
    service: svc,
    published,
    async close() {
      svc.close();
      await http.close();
    },
  };
}
