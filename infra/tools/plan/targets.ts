/** Mocked resources as policy targets (the rules' `{ type, name, props }` view). */
import type { MockedResource } from '../mock-run.js';
import type { PolicyTarget } from '../../policy/types.js';

/** Provider-backed resources (components and providers are not checked), inputs as props. */
export function targetsOf(resources: readonly MockedResource[]): PolicyTarget[] {
  return resources
    .filter((r) => r.custom !== false && !r.type.startsWith('pulumi:providers:'))
    .map((r) => ({ type: r.type, name: r.name, props: r.inputs, urn: r.urn, parent: r.parent }));
}
