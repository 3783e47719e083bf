// What a reload has to do: compare the running config with the new one, object by object, and say
// for each whether it can be updated in place (reconcile), must be restarted, or comes or goes
// (as upstream stunner's inspect(old, new)). The table is docs/config.md "Reconfiguration".

import type { AdminConfig, ClusterConfig, ListenerConfig, StunnerConfig } from './types.ts';

export type ListenerAction = 'none' | 'reconcile' | 'restart' | 'add' | 'remove';
export type ClusterAction = 'none' | 'reconcile' | 'add' | 'remove';
/** restart-all: the realm changed, and every listener's keys with it. */
export type AuthAction = 'none' | 'reconcile' | 'restart-all';
export type AdminAction = 'none' | 'reconcile';
/** restart: stop the old server (if there was one) and start the new (if there is one). */
export type ServerAction = 'none' | 'restart';

export interface ObjectChange<A extends string> {
  readonly name: string;
  readonly action: A;
  /** The fields that differ (`auth.realm` when a realm change restarts the listener). */
  readonly fields: readonly string[];
}

export interface AdminPlan {
  readonly name: AdminAction;
  readonly loglevel: AdminAction;
  readonly user_quota: AdminAction;
  readonly limits: AdminAction;
  readonly metrics_endpoint: ServerAction;
  readonly healthcheck_endpoint: ServerAction;
}

export interface ReconcilePlan {
  /** The new config's listeners in order, then the removed ones. */
  readonly listeners: readonly ObjectChange<ListenerAction>[];
  readonly clusters: readonly ObjectChange<ClusterAction>[];
  readonly auth: AuthAction;
  readonly admin: AdminPlan;
  /** False when applying the new config changes nothing. */
  readonly changed: boolean;
}

/**
 * A change to these needs a new socket: the listener restarts and its allocations end. Every other field is
 * applied live, cert and key included: TURN-TLS and TURN-DTLS listeners hand new handshakes the new pair, and
 * the other protocols have none (validation empties them).
 */
export const LISTENER_SOCKET_FIELDS = ['protocol', 'address', 'port'] as const;
const RESTART_FIELDS: ReadonlySet<string> = new Set(LISTENER_SOCKET_FIELDS);

export function inspectConfig(old: StunnerConfig, next: StunnerConfig): ReconcilePlan {
  const auth = inspectAuth(old, next);
  const listeners = inspectList<ListenerConfig, ListenerAction>(old.listeners, next.listeners, (fields) => {
    if (auth === 'restart-all') return { action: 'restart', fields: [...fields, 'auth.realm'] };
    if (fields.length === 0) return { action: 'none', fields };
    return { action: fields.some((f) => RESTART_FIELDS.has(f)) ? 'restart' : 'reconcile', fields };
  });
  const clusters = inspectList<ClusterConfig, ClusterAction>(old.clusters, next.clusters,
    (fields) => ({ action: fields.length === 0 ? 'none' : 'reconcile', fields }));
  const admin = inspectAdmin(old.admin, next.admin);
  const changed = auth !== 'none' || Object.values(admin).some((a) => a !== 'none')
    || [...listeners, ...clusters].some((c) => c.action !== 'none');
  return { listeners, clusters, auth, admin, changed };
}

function inspectAuth(old: StunnerConfig, next: StunnerConfig): AuthAction {
  if (old.auth.realm !== next.auth.realm) return 'restart-all';
  return old.auth.type === next.auth.type && equal(old.auth.credentials, next.auth.credentials) ? 'none' : 'reconcile';
}

function inspectAdmin(old: AdminConfig, next: AdminConfig): AdminPlan {
  const live = (k: keyof AdminConfig): AdminAction => (equal(old[k], next[k]) ? 'none' : 'reconcile');
  const server = (k: keyof AdminConfig): ServerAction => (old[k] === next[k] ? 'none' : 'restart');
  return {
    name: live('name'),
    loglevel: live('loglevel'),
    user_quota: live('user_quota'),
    limits: live('limits'),
    metrics_endpoint: server('metrics_endpoint'),
    healthcheck_endpoint: server('healthcheck_endpoint'),
  };
}

/** Objects are matched by name; `decide` gets the names of the fields that differ. */
function inspectList<T extends { readonly name: string }, A extends string>(old: readonly T[], next: readonly T[],
  decide: (fields: string[]) => { action: A; fields: string[] }): ObjectChange<A>[] {
  const before = new Map(old.map((o) => [o.name, o]));
  const after = new Set(next.map((n) => n.name));
  const out: ObjectChange<A>[] = next.map((n) => {
    const o = before.get(n.name);
    if (o === undefined) return { name: n.name, action: 'add' as A, fields: [] };
    const fields = Object.keys(n).filter((k) => !equal(o[k as keyof T], n[k as keyof T]));
    return { name: n.name, ...decide(fields) };
  });
  for (const o of old) if (!after.has(o.name)) out.push({ name: o.name, action: 'remove' as A, fields: [] });
  return out;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
