// LiteFS's own answer to "who is primary?", from either source: the /events stream (pushed) or
// the mount files (pulled). The election layer judges it; this module only describes it.
import type { PrimaryStatusEvent } from "./events.js";

export type LiteFSView =
  /** This node holds the LiteFS lease. */
  | { readonly kind: "primary" }
  /** A replica that knows its primary (by lease hostname). */
  | { readonly kind: "replica"; readonly primary: string }
  /** A replica that lost its primary (primary down, partition): no `.primary`, lag not zero. */
  | { readonly kind: "no-primary" }
  /** Cannot tell: no mount, unreadable or malformed files. Treated as not writable. */
  | { readonly kind: "unknown"; readonly detail: string };

// Shared constants: the hot path compares and returns these without allocating.
export const PRIMARY_VIEW: LiteFSView = Object.freeze({ kind: "primary" });
export const NO_PRIMARY_VIEW: LiteFSView = Object.freeze({ kind: "no-primary" });

export function replicaView(primary: string): LiteFSView {
  return Object.freeze({ kind: "replica", primary });
}

export function unknownView(detail: string): LiteFSView {
  return Object.freeze({ kind: "unknown", detail });
}

/** The view an `init` or `primaryChange` event announces. */
export function viewFromPrimaryStatus(event: PrimaryStatusEvent): LiteFSView {
  if (event.isPrimary) return PRIMARY_VIEW;
  return event.hostname ? replicaView(event.hostname) : NO_PRIMARY_VIEW;
}

/** True when both describe the same state (so no role-change needs announcing). */
export function sameView(a: LiteFSView, b: LiteFSView): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === "replica") return a.primary === (b as { primary: string }).primary;
  if (a.kind === "unknown") return a.detail === (b as { detail: string }).detail;
  return true;
}
