/**
 * Conformance fixtures for Multi Round-Trip Requests (SEP-2322): `input_required` results carrying
 * elicitation / sampling / roots requests and sealed `requestState` that evolves across rounds.
 * State is minted with the deployment's shared keys (ToolsetContext.requestState); the server refuses
 * bad state before a handler runs, and handlers read the verified payload with `requestState.read`.
 */
import { acceptedContent, inputRequired, inputResponse, type ServerContext } from '@modelcontextprotocol/server';
import type { ToolsetServer } from '../surface.js';
import { z } from 'zod';
import type { ToolsetContext } from '../types.js';
import { clientCapabilities } from './interactive-tools.js';

const noArgs = z.object({});
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const nameSchema = { type: 'object' as const, properties: { name: { type: 'string' as const } }, required: ['name'] };
const NameAnswer = z.object({ name: z.string() });
const ColorAnswer = z.object({ color: z.string() });

/** Payload sealed into requestState by these fixtures. */
interface FlowState extends Record<string, unknown> {
  readonly tool: string;
  readonly round: number;
  readonly name?: string;
}

const askName = (message = 'What is your name?') => inputRequired.elicit({ message, requestedSchema: nameSchema });
const askCapital = () =>
  inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
    maxTokens: 100,
  });

/** Registers the MRTR fixtures. */
export function registerMrtrTools(server: ToolsetServer, { requestState }: ToolsetContext): void {
  /** This round's verified state when it belongs to `tool`. */
  const stateOf = async (ctx: ServerContext, tool: string): Promise<FlowState | undefined> => {
    const state = await requestState.read<FlowState>(ctx);
    return state?.tool === tool ? state : undefined;
  };

  server.registerTool(
    'test_input_required_result_elicitation',
    { description: 'Asks for a name via input_required elicitation, then greets.', inputSchema: noArgs },
    async (_args, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', NameAnswer);
      // Missing, wrong-keyed or malformed answers re-request the input instead of failing.
      if (!answer) return inputRequired({ inputRequests: { user_name: askName() } });
      return text(`Hello, ${answer.name}!`);
    },
  );

  server.registerTool(
    'test_input_required_result_sampling',
    { description: 'Asks the client LLM a question via input_required sampling.', inputSchema: noArgs },
    async (_args, ctx) => {
      const view = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
      if (view.kind !== 'sampling') return inputRequired({ inputRequests: { capital_question: askCapital() } });
      const content = Array.isArray(view.result.content) ? view.result.content : [view.result.content];
      return text(`Model said: ${content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('')}`);
    },
  );

  server.registerTool(
    'test_input_required_result_list_roots',
    { description: 'Asks for the client roots via input_required, then lists them.', inputSchema: noArgs },
    async (_args, ctx) => {
      const view = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
      if (view.kind !== 'roots') return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
      return text(`Roots: ${view.roots.map((r) => r.uri).join(', ') || '(none)'}`);
    },
  );

  const tool = 'test_input_required_result_request_state';
  server.registerTool(tool, { description: 'Round-trips sealed requestState; the final answer says state-ok.', inputSchema: noArgs }, async (_args, ctx) => {
    const state = await stateOf(ctx, tool);
    const confirmed = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
    if (state?.round === 1 && confirmed.kind === 'elicit') return text(`state-ok: confirmation ${confirmed.action}`);
    return inputRequired({
      inputRequests: {
        confirm: inputRequired.elicit({
          message: 'Please confirm',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        }),
      },
      requestState: await requestState.mint({ tool, round: 1 }, ctx),
    });
  });

  const tampered = 'test_input_required_result_tampered_state';
  server.registerTool(
    tampered,
    { description: 'Issues sealed requestState; a modified state is refused with -32602.', inputSchema: noArgs },
    async (_args, ctx) => {
      const state = await stateOf(ctx, tampered);
      if (state?.round === 1 && inputResponse(ctx.mcpReq.inputResponses, 'confirm').kind === 'elicit') return text('state verified');
      return inputRequired({
        inputRequests: {
          confirm: inputRequired.elicit({ message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } }),
        },
        requestState: await requestState.mint({ tool: tampered, round: 1 }, ctx),
      });
    },
  );

  const multiple = 'test_input_required_result_multiple_inputs';
  server.registerTool(
    multiple,
    { description: 'Needs an elicitation, a sampling and a roots answer in one round.', inputSchema: noArgs },
    async (_args, ctx) => {
      const responses = ctx.mcpReq.inputResponses;
      const done =
        (await stateOf(ctx, multiple)) !== undefined &&
        acceptedContent(responses, 'user_name', NameAnswer) !== undefined &&
        inputResponse(responses, 'greeting').kind === 'sampling' &&
        inputResponse(responses, 'client_roots').kind === 'roots';
      if (done) return text(`Hello, ${acceptedContent(responses, 'user_name', NameAnswer)!.name}! All inputs received.`);
      return inputRequired({
        inputRequests: {
          user_name: askName(),
          greeting: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
            maxTokens: 50,
          }),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await requestState.mint({ tool: multiple, round: 1 }, ctx),
      });
    },
  );

  const multi = 'test_input_required_result_multi_round';
  server.registerTool(multi, { description: 'Three rounds: name, then favourite colour, then the answer.', inputSchema: noArgs }, async (_args, ctx) => {
    const state = await stateOf(ctx, multi);
    const name = acceptedContent(ctx.mcpReq.inputResponses, 'step1', NameAnswer);
    if (state?.round === 1 && name) {
      return inputRequired({
        inputRequests: {
          step2: inputRequired.elicit({
            message: 'Step 2: What is your favorite color?',
            requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
          }),
        },
        requestState: await requestState.mint({ tool: multi, round: 2, name: name.name }, ctx),
      });
    }
    const color = acceptedContent(ctx.mcpReq.inputResponses, 'step2', ColorAnswer);
    if (state?.round === 2 && color) return text(`${state.name ?? 'Someone'} likes ${color.color}.`);
    return inputRequired({
      inputRequests: { step1: askName('Step 1: What is your name?') },
      requestState: await requestState.mint({ tool: multi, round: 1 }, ctx),
    });
  });

  server.registerTool(
    'test_input_required_result_capabilities',
    { description: 'Requests only the inputs whose client capability was declared.', inputSchema: noArgs },
    async (_args, ctx) => {
      const caps = clientCapabilities(server, ctx);
      const responses = ctx.mcpReq.inputResponses;
      const requests: Record<string, ReturnType<typeof askName>> = {};
      if (caps.elicitation && !acceptedContent(responses, 'user_name', NameAnswer)) requests.user_name = askName();
      if (caps.sampling && inputResponse(responses, 'capital_question').kind !== 'sampling') requests.capital_question = askCapital();
      if (caps.roots && inputResponse(responses, 'client_roots').kind !== 'roots') requests.client_roots = inputRequired.listRoots();
      if (Object.keys(requests).length > 0) return inputRequired({ inputRequests: requests });
      return text('All inputs for the declared capabilities received.');
    },
  );
}
