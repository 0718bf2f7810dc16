import { userInfo } from 'node:os';

/** Who acts from this machine when nobody else is named (`stop`, a loopback `serve` without tokens): the OS user. */
export function localUser(): string {
  try {
    return userInfo().username || 'local user';
  } catch {
    // No entry for this uid (a container's): the actions still say someone of this machine did it.
    return 'local user';
  }
}
