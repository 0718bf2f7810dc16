import { usdOfText } from '../../domain/agent-caps.js';
import { PhaseSchema } from '../../domain/phase.js';
import type { PipelineStepInput } from '../../domain/pipeline-steps.js';
import { UsageError, stringOption, type CommandContext } from '../command.js';

/** A number of US dollars given as an option: plain decimal digits only (no sign, no exponent). */
export function usdOption(context: CommandContext, name: string): number | undefined {
  const text = stringOption(context, name);
  if (text === undefined) return undefined;
  const usd = usdOfText(text);
  if (usd === null || usd <= 0) throw new UsageError(`--${name} takes an amount of US dollars above 0, like 0.50, not "${text}"`);
  return usd;
}

const STEP_FLAG = /^(approval|budget=\d+(\.\d+)?|turns=\d+)$/;

/**
 * `--steps CodeGenAgent:CodeGeneration,ReviewAgent:Review:budget=0.5:turns=20,DeployAgent:CICD:approval`
 * as steps: `agent:phase` and, per step, `budget=USD`, `turns=N` or `approval`.
 */
export function stepsOption(context: CommandContext): PipelineStepInput[] | undefined {
  const text = stringOption(context, 'steps');
  if (text === undefined) return undefined;
  return text.split(',').map((item) => {
    const [agentName, phase, ...flags] = item.split(':');
    const parsed = PhaseSchema.safeParse(phase);
    if (agentName === undefined || agentName.length === 0 || !parsed.success) throw new UsageError(`--steps takes agent:phase pairs (phases: ${PhaseSchema.options.join(', ')}), not "${item}"`);
    const step: PipelineStepInput = { agentName, phase: parsed.data };
    for (const flag of flags) {
      if (!STEP_FLAG.test(flag)) throw new UsageError(`--steps: unknown step option "${flag}" in "${item}" (approval, budget=USD, turns=N)`);
      if (flag === 'approval') step.approval = true;
      else if (flag.startsWith('budget=')) step.budgetUsd = Number(flag.slice(7));
      else step.maxTurns = Number(flag.slice(6));
    }
    return step;
  });
}
