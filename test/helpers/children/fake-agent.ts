/*
 * A stand-in headless agent CLI for runner tests that need no model: it prints stream-json like
 * Claude Code (init, assistant, result) and behaves as FAKE_AGENT_MODE says:
 *   ok       reply with the prompt's first line
 *   env      reply with the names of the environment variables it received
 *   sleep    start a grandchild `sleep`, print its pid, then wait (to be stopped or time out)
 *   wrong-id announce a different session id
 * and FAKE_AGENT_FAIL=<agent name> makes that agent report an error and exit 1.
 * Usage: node fake-agent.js --session-id <id> <prompt>
 */
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const sessionId = args[args.indexOf('--session-id') + 1]!;
const prompt = args.at(-1) ?? '';
const mode = process.env['FAKE_AGENT_MODE'] ?? 'ok';
// Outlive a supervisor that died (its pipe closes): that is what an orphan is.
process.stdout.on('error', () => {});
const print = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

print({ type: 'system', subtype: 'init', session_id: mode === 'wrong-id' ? '00000000-0000-4000-8000-000000000000' : sessionId });
if (mode === 'sleep') {
  const grandchild = spawn('sleep', ['600'], { stdio: 'ignore' });
  print({ type: 'assistant', message: { content: [{ type: 'text', text: `grandchild ${grandchild.pid}` }] }, session_id: sessionId });
  setInterval(() => {}, 1000);
} else if (process.env['FAKE_AGENT_FAIL'] !== undefined && prompt.startsWith(`You are ${process.env['FAKE_AGENT_FAIL']},`)) {
  print({ type: 'result', subtype: 'success', is_error: true, result: 'tests are red', num_turns: 1, session_id: sessionId });
  process.exitCode = 1;
} else {
  const reply = mode === 'env' ? Object.keys(process.env).sort().join(',') : prompt.split('\n')[0]!;
  if (mode === 'wrong-id') setInterval(() => {}, 1000);
  print({ type: 'assistant', message: { content: [{ type: 'text', text: reply }] }, session_id: sessionId });
  print({ type: 'result', subtype: 'success', is_error: false, result: reply, num_turns: 1, duration_ms: 5, total_cost_usd: 0.001, usage: { input_tokens: 3, output_tokens: 4 }, session_id: sessionId });
}
