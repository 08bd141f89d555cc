// Network address and URL rules. Listen addresses follow Go's "[host]:port" (empty host = all
// interfaces); dial addresses ("host:port") need a host. Ports are numbers: LiteFS would accept
// service names, but a deployment that depends on /etc/services is a surprise waiting to happen.

import { isIP } from "node:net";
import { ConfigError } from "../errors.js";

export interface HostPort {
  /** Host without brackets; "" when a listen address names no host. */
  readonly host: string;
  readonly port: number;
  /** True when the host was written in brackets (IPv6). */
  readonly bracketed: boolean;
}

const HOST_NAME = /^[A-Za-z0-9._-]+$/;
const IPV6_INSIDE_BRACKETS = /^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._-]+)?$/;

/** True for a bare host name or IPv4 literal: dot-separated labels of letters, digits, '-' and '_' (no port, path or userinfo). */
export function isHostName(text: string): boolean {
  return text.length <= 253 && HOST_NAME.test(text) && text.split(".").every((label) => label !== "");
}

interface AddressBlock {
  /** The network address as written (IPv4-mapped IPv6 written as IPv4). */
  readonly address: string;
  readonly family: "ipv4" | "ipv6";
  /** Prefix length; a bare address is a /32 (IPv4) or /128 (IPv6). */
  readonly prefix: number;
}

export type AddressBlockParse = { ok: true; value: AddressBlock } | { ok: false; message: string };

/** An IP address or CIDR block ("10.0.0.7", "10.0.0.0/8", "fd00::/8", "::1"); host names are refused (no DNS). */
export function parseAddressBlock(text: string): AddressBlockParse {
  const bad = (why: string): AddressBlockParse => ({
    ok: false,
    message: `must be an IP address or CIDR block such as "10.0.0.7" or "10.0.0.0/8"${why}, got ${JSON.stringify(text)}`,
  });
  const slash = text.indexOf("/");
  const address = unmapIPv4(slash < 0 ? text : text.slice(0, slash));
  const version = isIP(address);
  if (version === 0) return bad(" (names are not resolved)");
  const family = version === 4 ? "ipv4" : "ipv6";
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return bad(` (the prefix length is 0 to ${max})`);
  return { ok: true, value: { address, family, prefix: Number(prefixText) } };
}

/** "::ffff:10.0.0.1" (how a dual-stack socket reports an IPv4 peer) -> "10.0.0.1"; anything else unchanged. */
export function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

export type AddressParse = { ok: true; value: HostPort } | { ok: false; message: string };

/** Port problem in words, or null for an integer from 1 to 65535. */
export function portProblem(port: unknown): string | null {
  if (typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535) return null;
  const shown = typeof port === "string" ? JSON.stringify(port) : String(port);
  return `port must be an integer from 1 to 65535, got ${shown}`;
}

function splitHostPort(text: string, requireHost: boolean, example: string, anyPort = false): AddressParse {
  const bad = (why: string): AddressParse => ({
    ok: false,
    message: `must be ${requireHost ? `"host:port"` : `"[host]:port"`} such as ${example}${why}, got ${JSON.stringify(text)}`,
  });
  let host: string;
  let portText: string;
  let bracketed = false;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return bad("");
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    bracketed = true;
    if (!IPV6_INSIDE_BRACKETS.test(host)) return bad(" (brackets hold an IPv6 address)");
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) return bad(" (the port is missing)");
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(":")) return bad(` (write IPv6 hosts in brackets: "[::1]:20202")`);
    if (host !== "" && !HOST_NAME.test(host)) return bad(" (the host may hold letters, digits, '.', '-' and '_')");
  }
  if (requireHost && host === "") return bad(" (the host is missing)");
  if (!/^\d+$/.test(portText)) return bad(" (the port must be a number)");
  const port = Number(portText);
  const problem = anyPort && port === 0 ? null : portProblem(port);
  if (problem) return { ok: false, message: `${problem} in ${JSON.stringify(text)}` };
  return { ok: true, value: { host, port, bracketed } };
}

export interface ListenAddrOptions {
  /** Also take port 0 (the system picks a free port): for listeners only this process dials, and tests. */
  readonly anyPort?: boolean;
}

/** A listen address: "[host]:port", host optional (":20202", "0.0.0.0:20202", "[::1]:20202"). */
export function parseListenAddr(
  text: string,
  example = `":20202" or "127.0.0.1:20202"`,
  options: ListenAddrOptions = {},
): AddressParse {
  return splitHostPort(text, false, example, options.anyPort === true);
}

/** A dial address: "host:port" with a host ("node-b:4001", "10.0.0.2:4001", "[fd00::2]:4001"). */
export function parseHostPort(text: string, example = `"node-b:4001"`): AddressParse {
  return splitHostPort(text, true, example);
}

/** A dial address for code that takes it as it is (no settings report): the host and port, or a ConfigError naming `setting`. */
export function dialAddressOrThrow(
  text: string,
  setting: string,
  env: string | null = null,
): { host: string; port: number } {
  const parsed = parseHostPort(text);
  if (!parsed.ok) throw new ConfigError([{ setting, env, message: parsed.message }]);
  return { host: parsed.value.host, port: parsed.value.port };
}

/** Host and port as written in a URL authority (IPv6 in brackets). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A problem message for `text` as an http(s) URL, or null when it is one. */
export function httpUrlProblem(text: string, example: string): string | null {
  const bad = `must be an http:// or https:// URL such as ${JSON.stringify(example)}, got ${JSON.stringify(text)}`;
  // WHATWG URL forgives "http:/host" and backslashes; Go's url.Parse (LiteFS) does not, so demand
  // the literal "scheme://host" form before asking URL about the rest.
  if (/\s/.test(text) || !/^https?:\/\/[^/\\?#]/i.test(text)) return bad;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return bad;
  if (url.hostname === "") return bad;
  return null;
}
