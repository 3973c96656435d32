/** The component tree of a mocked stack (parent links), and lookups the plan tools share. */
import type { MockedResource } from '../mock-run.js';

/** A resource with its children, in registration order. */
export interface TreeNode {
  readonly resource: MockedResource;
  readonly children: TreeNode[];
}

/** Index of a mocked stack: by URN, the tree roots, and the component each resource belongs to. */
export interface StackIndex {
  readonly byUrn: ReadonlyMap<string, MockedResource>;
  readonly roots: TreeNode[];
  /** Logical name of the nearest enclosing component (not the Stack); `(stack)` at the top. */
  componentOf(r: MockedResource): string;
  /** The provider resource a resource was registered with, when explicit. */
  providerOf(r: MockedResource): MockedResource | undefined;
}

const STACK_TYPE = 'pulumi:pulumi:Stack';

/** True for ComponentResources (not provider-backed), excluding the root Stack. */
export function isComponent(r: MockedResource): boolean {
  return r.custom === false && r.type !== STACK_TYPE;
}

/** Builds the tree from `parent` URNs; resources whose parent is unknown become roots. */
export function indexStack(resources: readonly MockedResource[]): StackIndex {
  const byUrn = new Map<string, MockedResource>();
  for (const r of resources) if (r.urn) byUrn.set(r.urn, r);
  const nodes = new Map<MockedResource, TreeNode>(resources.map((r) => [r, { resource: r, children: [] }]));
  const roots: TreeNode[] = [];
  for (const r of resources) {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) nodes.get(parent)!.children.push(nodes.get(r)!);
    else roots.push(nodes.get(r)!);
  }
  return {
    byUrn,
    roots,
    componentOf(r) {
      for (let p = r.parent ? byUrn.get(r.parent) : undefined; p; p = p.parent ? byUrn.get(p.parent) : undefined) {
        if (isComponent(p)) return p.name;
      }
      return '(stack)';
    },
    providerOf(r) {
      if (!r.provider) return undefined;
      // A provider reference is `<urn>::<id>`.
      const urn = r.provider.slice(0, r.provider.lastIndexOf('::'));
      return byUrn.get(urn);
    },
  };
}
