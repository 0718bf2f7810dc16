import { v5 as uuidv5 } from 'uuid';

/** The namespace of pipeline ids (a fixed random UUID: changing it would orphan every recorded pipeline stream). */
const PIPELINE_NAMESPACE = 'b3d6a0c4-7e21-4f5b-8c3a-2d9e61f04a87';

/**
 * The id of a pipeline's own stream in the log: a UUID (v5) derived from its root session's id.
 * Deriving it means every process finds the stream of a pipeline it knows by its root, with no
 * index, and two managers that record the same fact append to the same stream, where the log's
 * expected revisions let one of them win. Its events also name the root (`data.rootId`).
 */
export function pipelineIdOf(rootId: string): string {
  return uuidv5(rootId, PIPELINE_NAMESPACE);
}
