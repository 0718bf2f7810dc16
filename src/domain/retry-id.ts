import { v5 as uuidv5 } from 'uuid';

/** The namespace of retry ids (a fixed random UUID: changing it would orphan every recorded retry). */
const RETRY_NAMESPACE = '6f1c2f0e-3b7a-4d52-9a51-0f4d8c2e7b13';

/**
 * The id of the one retry a Failed session can have: a UUID (v5) derived from the failed
 * session's id. Deriving it, rather than drawing a random one, is what makes a retry happen at
 * most once: two managers that retry the same session at the same time append the same id,
 * and the log's expected revisions let one of them win. It also finds a session's retry
 * without an index, because the failed session's own record never changes once it has ended.
 */
export function retryIdOf(failedSessionId: string): string {
  return uuidv5(failedSessionId, RETRY_NAMESPACE);
}
