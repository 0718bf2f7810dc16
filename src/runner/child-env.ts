/** Variables passed from the manager's environment to an agent as they are. */
export const ENV_ALLOWLIST = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'TERM', 'TMPDIR', 'TZ',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME',
] as const;

/** Prefixes of variables an agent CLI needs (its API key and settings, locale). */
export const ENV_PREFIXES = ['ANTHROPIC_', 'CLAUDE_CODE_', 'CLAUDE_CONFIG_', 'LC_'] as const;

/**
 * The agent's environment: only the allowlisted variables of `parent`, then `extra` on top.
 * An explicit list, so the manager's own secrets (database URLs, cloud tokens) never reach an
 * agent by accident. With `inherit` false, only `PATH` of `parent` (to find the CLI's tools), then `extra`.
 */
export function childEnv(parent: NodeJS.ProcessEnv, extra: Readonly<Record<string, string>> = {}, inherit = true): Record<string, string> {
  if (!inherit) return { ...(parent['PATH'] === undefined ? {} : { PATH: parent['PATH'] }), ...extra };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if ((ENV_ALLOWLIST as readonly string[]).includes(name) || ENV_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  return { ...env, ...extra };
}
