// Which LiteFS API each cluster member has, kept in the lease service's replicated KV so that a
// handoff can find its target: `litefs-node run` registers its node once it has joined the Raft
// group, under `litefs-node/members/<raft address>` (the member ids every node knows from the
// settings). Read and written through the local lease service's Consul API (127.0.0.1).

const DIRECTORY_PREFIX = "litefs-node/members/";

export interface DirectoryEntry {
  /** The member's LiteFS hostname (nodeId). */
  readonly node: string;
  /** Its LiteFS HTTP API as other nodes reach it (advertiseUrl). */
  readonly apiUrl: string;
}

/** The KV key of a member's entry (the lease service serves these for its own members only). */
export function directoryKey(member: string): string {
  return `${DIRECTORY_PREFIX}${member}`;
}

function keyUrl(leaseUrl: string, member: string): string {
  return `${leaseUrl.replace(/\/$/, "")}/v1/kv/${DIRECTORY_PREFIX}${encodeURIComponent(member)}`;
}

const headers = (token: string | null): Record<string, string> => (token ? { "x-consul-token": token } : {});

/** Registers this member; throws with the lease service's answer when it refuses. */
export async function registerMember(
  leaseUrl: string,
  token: string | null,
  member: string,
  entry: DirectoryEntry,
): Promise<void> {
  const res = await fetch(keyUrl(leaseUrl, member), {
    method: "PUT",
    headers: headers(token),
    body: JSON.stringify(entry),
    signal: AbortSignal.timeout(3000),
  });
  const text = await res.text();
  if (res.status !== 200 || text.trim() !== "true")
    throw new Error(`lease service answered HTTP ${res.status} ${text.trim().slice(0, 200)}`);
}

/** The registered entries of `members` (unregistered or unreadable ones are left out, with why). */
export async function readDirectory(
  leaseUrl: string,
  token: string | null,
  members: readonly string[],
): Promise<{ readonly entries: DirectoryEntry[]; readonly problems: string[] }> {
  const entries: DirectoryEntry[] = [];
  const problems: string[] = [];
  await Promise.all(
    members.map(async (member) => {
      try {
        const res = await fetch(keyUrl(leaseUrl, member), {
          headers: headers(token),
          signal: AbortSignal.timeout(3000),
        });
        const text = await res.text();
        if (res.status === 404)
          return void problems.push(`${member}: not registered (is \`litefs-node run\` running there?)`);
        if (res.status !== 200)
          return void problems.push(
            `${member}: lease service answered HTTP ${res.status} ${text.trim().slice(0, 120)}`,
          );
        const [kv] = JSON.parse(text) as { Value: string | null }[];
        const entry = JSON.parse(Buffer.from(kv?.Value ?? "", "base64").toString("utf8")) as Partial<DirectoryEntry>;
        if (typeof entry.node !== "string" || typeof entry.apiUrl !== "string")
          return void problems.push(`${member}: malformed entry`);
        entries.push({ node: entry.node, apiUrl: entry.apiUrl });
      } catch (error) {
        problems.push(`${member}: ${(error as Error).message}`);
      }
    }),
  );
  entries.sort((a, b) => a.node.localeCompare(b.node));
  return { entries, problems };
}
