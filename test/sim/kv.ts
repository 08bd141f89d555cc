// The replicated state machine of the simulation: a tiny KV store. Each value remembers the log
// index that wrote it, which the linearizability check uses to order writes.

export interface PutCommand {
  readonly op: "put";
  readonly id: string;
  readonly key: string;
  readonly value: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(c: PutCommand): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function decodeCommand(data: Uint8Array): PutCommand {
  return JSON.parse(dec.decode(data)) as PutCommand;
}

export interface KvValue {
  readonly value: string;
  readonly index: number;
}

export class KvStore {
  private map = new Map<string, KvValue>();

  put(key: string, value: string, index: number): void {
    this.map.set(key, { value, index });
  }

  get(key: string): KvValue | null {
    return this.map.get(key) ?? null;
  }

  encode(): Uint8Array {
    return enc.encode(JSON.stringify([...this.map.entries()]));
  }

  static decode(data: Uint8Array): KvStore {
    const kv = new KvStore();
    if (data.length > 0) for (const [k, v] of JSON.parse(dec.decode(data)) as [string, KvValue][]) kv.map.set(k, v);
    return kv;
  }
}
