// TLS 1.3 with a pre-shared key derived from raft.secret: the channel for Raft traffic and for
// follower-to-leader lease forwarding. Encrypted, mutually authenticated (each side proves it
// holds the key), no certificates to manage, and nothing home-made: OpenSSL through node:tls.
//
// - Key: HKDF-SHA256(raft.secret) with the PSK identity as info, so each cluster and each use
//   (Raft, lease forwarding) has its own key.
// - Identity: "litefs-node/<use>/<cluster id>", sent in the clear in the ClientHello; a server
//   that does not know it answers with a TLS alert only. In TLS 1.3 the server verifies the
//   client's PSK binder before it sends its ServerHello, so a peer without the key never receives
//   anything derived from the secret, and cannot test guesses against this server.
// - A passive observer of a real handshake sees the binder, an HMAC keyed from the secret: a
//   weak secret could be guessed offline from a recording. raft.secret must be random (the README
//   says `openssl rand -hex 32`); 16 characters is the floor, not the advice.
// - Only SHA-256 suites: a TLS 1.3 external PSK is bound to one hash, and node's pskCallback
//   PSKs use SHA-256. Session tickets are off: every connection is a full PSK + (EC)DHE handshake,
//   with forward secrecy; nothing is resumed or replayed (node does not do 0-RTT).

import { constants as cryptoConstants, hkdfSync } from "node:crypto";
import type { ConnectionOptions, TlsOptions } from "node:tls";

const TLS_PSK_CIPHERS = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
const HKDF_SALT = "litefs-node tls-psk v1";

export type PskUse = "raft" | "lease-forward";

export interface PskChannel {
  readonly identity: string;
  readonly key: Buffer;
}

export function pskChannel(secret: string, clusterId: string, use: PskUse): PskChannel {
  const identity = `litefs-node/${use}/${clusterId}`;
  return { identity, key: Buffer.from(hkdfSync("sha256", secret, HKDF_SALT, identity, 32)) };
}

/**
 * Server side. `onUnknownIdentity` hears every identity that is not ours (another cluster or
 * use, or a stranger): the handshake then fails with an alert.
 */
export function pskServerOptions(
  channel: PskChannel,
  handshakeTimeoutMs: number,
  onUnknownIdentity: (identity: string) => void,
): TlsOptions {
  return {
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    ciphers: TLS_PSK_CIPHERS,
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
    handshakeTimeout: handshakeTimeoutMs,
    pskCallback: (_socket, identity) => {
      if (identity === channel.identity) return channel.key;
      onUnknownIdentity(identity);
      return null;
    },
  };
}

/** Client side: offers our identity and key; there is no certificate to check. */
export function pskClientOptions(channel: PskChannel): ConnectionOptions {
  return {
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    ciphers: TLS_PSK_CIPHERS,
    pskCallback: () => ({ psk: channel.key, identity: channel.identity }),
    checkServerIdentity: () => undefined,
  };
}

/** What a failed TLS handshake most likely means, for logs on either side. */
export function describeTlsFailure(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const text = `${code} ${error.message}`;
  if (/BINDER[_ ]DOES[_ ]NOT[_ ]VERIFY|ILLEGAL[_ ]PARAMETER|DECRYPT[_ ]ERROR|BAD[_ ]RECORD[_ ]MAC/i.test(text)) {
    return `TLS-PSK handshake failed (${code || error.message}): the peer holds another raft.secret`;
  }
  if (/HANDSHAKE[_ ]FAILURE|NO[_ ]SHARED[_ ]CIPHER|UNKNOWN[_ ]PSK|NO[_ ]SUITABLE/i.test(text)) {
    return `TLS-PSK handshake failed (${code || error.message}): the peer does not know our PSK identity: another cluster id (a different member list) or another version`;
  }
  return `TLS handshake failed: ${error.message}`;
}
