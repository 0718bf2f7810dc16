import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SessionError } from '../errors.js';

/*
 * Who may read the dashboard. On a loopback address without tokens: the people of this machine,
 * as for every other command, with the Host header checked so that a page elsewhere cannot
 * reach the server through a name it points at 127.0.0.1 (DNS rebinding). With tokens: every
 * request shows one, as `Authorization: Bearer SECRET` or the cookie a visit to `/?token=SECRET`
 * sets, and the server may listen on any address.
 */

/** The cookie that carries a token after a visit with `?token=`. */
export const TOKEN_COOKIE = 'miyabi_dashboard';

/** Tokens by their secret: the secret a request shows names who made it. */
export type Tokens = ReadonlyMap<string, string>;

/** Parses `--token NAME=SECRET` values. Throws `INVALID_INPUT` for one without a name or a secret of at least 16 characters. */
export function parseTokens(specs: readonly string[]): Tokens {
  const tokens = new Map<string, string>();
  for (const spec of specs) {
    const at = spec.indexOf('=');
    const name = spec.slice(0, at);
    const secret = spec.slice(at + 1);
    if (at < 1 || !/^[\w.@-]{1,64}$/.test(name)) throw new SessionError('INVALID_INPUT', `--token takes NAME=SECRET, with a name of letters, digits, '.', '@', '-' or '_'`);
    if (secret.length < 16) throw new SessionError('INVALID_INPUT', `--token ${name}=…: the secret must be at least 16 characters`);
    if (tokens.has(secret)) throw new SessionError('INVALID_INPUT', `--token ${name}=…: two names share one secret`);
    tokens.set(secret, name);
  }
  return tokens;
}

/** Whether a listening address is this machine's alone. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** What the server listens on, as access decisions need it. */
export interface AccessRules {
  tokens: Tokens;
  /** The Host header values a loopback server answers (its address and `localhost`, with the port). */
  hosts: ReadonlySet<string>;
  loopback: boolean;
}

/** A request let in (and who made it), or turned away with a status and why. */
export type Access = { ok: true; who: string | null; setCookie?: string; redirect?: string } | { ok: false; status: number; why: string };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function named(tokens: Tokens, shown: string | undefined): string | null {
  if (shown === undefined) return null;
  for (const [secret, name] of tokens) if (sameSecret(secret, shown)) return name;
  return null;
}

function cookieOf(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      // A cookie that is not URL-encoded text is no token.
      return undefined;
    }
  }
  return undefined;
}

/** Decides whether a request may be answered. */
export function checkAccess(request: IncomingMessage, url: URL, rules: AccessRules): Access {
  if (rules.loopback && !rules.hosts.has((request.headers.host ?? '').toLowerCase())) {
    return { ok: false, status: 421, why: 'this server answers only the names of this machine (Host header)' };
  }
  if (rules.tokens.size === 0) return { ok: true, who: null };
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  const fromQuery = url.searchParams.get('token') ?? undefined;
  const who = named(rules.tokens, bearer) ?? named(rules.tokens, fromQuery) ?? named(rules.tokens, cookieOf(request, TOKEN_COOKIE));
  if (who === null) return { ok: false, status: 401, why: 'a token is required: open the link with ?token=… once, or send Authorization: Bearer …' };
  if (fromQuery === undefined || named(rules.tokens, fromQuery) === null) return { ok: true, who };
  // A token in the address: kept in a cookie, taken out of the address (and of the history).
  const clean = new URL(url);
  clean.searchParams.delete('token');
  return {
    ok: true,
    who,
    setCookie: `${TOKEN_COOKIE}=${encodeURIComponent(fromQuery)}; HttpOnly; SameSite=Strict; Path=/`,
    redirect: `${clean.pathname}${clean.search}`,
  };
}
