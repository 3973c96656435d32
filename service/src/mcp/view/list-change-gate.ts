/**
 * list_changed only for callers whose view changed (issue 20). Every change notification is published to
 * the whole tenant (an upstream's list change by federation, a virtual server's definition change by the
 * admin API); each listener (a 2026-07-28 listen stream's handler, a 2025-era session's GET stream) passes
 * them through a gate of its own:
 *
 * - a caller seeing its whole tenant gets every notification, except the ones a virtual server change
 *   publishes (marked {@link VIEWS_CHANGED_META}): its view does not depend on them;
 * - a restricted caller gets a `*_list_changed` only when what it sees of that family changed since it last
 *   looked (a fingerprint of its visible names and tool descriptions, from the tenant's catalog and built-in
 *   names), and `resources/updated` only for URIs it sees.
 *
 * The catalog of another replica may still be invalidating when the event arrives (separate pub/sub
 * channels), so an unchanged fingerprint is checked once more after `recheckMs` before the event is dropped.
 * A fingerprint that cannot be computed lets the event through: a spurious list_changed is harmless, lists
 * are filtered anyway.
 */
import type { Principal } from '../../domain/principal.js';
import type { View } from '../../domain/virtual-server.js';
import { ViewResolver } from './view-resolver.js';

/** `_meta` key marking a notification published for a virtual server change; removed before delivery. */
export const VIEWS_CHANGED_META = 'io.unified-mcp/views-changed';

/** Everything a tenant serves, by the names and URIs the gateway lists them under. */
export interface TenantSurface {
  readonly tools: readonly { readonly name: string; readonly description?: string }[];
  readonly prompts: readonly string[];
  readonly resources: readonly string[];
  readonly templates: readonly string[];
}

/** Reads a tenant's surface (its cached catalog plus the built-in names of its toolsets). */
export type SurfaceSource = (tenantId: string, toolsets: readonly string[]) => Promise<TenantSurface>;

/** A list family. */
export type ListFamily = 'tools' | 'prompts' | 'resources';

/** What a gate is asked about one notification. */
export interface GatedNotification {
  /** The list that changed; absent for a resource update. */
  readonly family?: ListFamily;
  /** The updated resource (resources/updated). */
  readonly uri?: string;
  /** Published for a virtual server change. */
  readonly marked: boolean;
}

/** One listener's gate. */
export interface NotificationGate {
  /** Records what the caller sees now; call once when the listener starts. */
  prime(): Promise<void>;
  /** Whether the notification goes to this listener. */
  admit(n: GatedNotification): Promise<boolean>;
}

/** The list family of a notification method or server-event kind. */
export function familyOf(methodOrKind: string): ListFamily | undefined {
  if (methodOrKind.includes('tools')) return 'tools';
  if (methodOrKind.includes('prompts')) return 'prompts';
  if (methodOrKind.includes('resources') && methodOrKind.includes('list_changed')) return 'resources';
  return undefined;
}

/** Whether notification params carry the virtual-server-change mark, and the params without it. */
export function unmark(params: Record<string, unknown> | undefined): { marked: boolean; params: Record<string, unknown> | undefined } {
  const meta = params?.['_meta'] as Record<string, unknown> | undefined;
  if (!meta || !(VIEWS_CHANGED_META in meta)) return { marked: false, params };
  const { [VIEWS_CHANGED_META]: _, ...rest } = meta;
  const { _meta: __, ...others } = params!;
  const clean = Object.keys(rest).length ? { ...others, _meta: rest } : others;
  return { marked: true, params: Object.keys(clean).length ? clean : undefined };
}

const STORED_RESULT = /^umcp-blob:/;

/** Builds gates over the caller's view and the tenant's surface. */
export class ListChangeGates {
  /**
   * @param recheckMs - wait before the second look at an unchanged fingerprint. @defaultValue 300
   */
  constructor(
    private readonly views: Pick<ViewResolver, 'viewOf'>,
    private readonly surface: SurfaceSource,
    private readonly recheckMs = 300,
  ) {}

  /** A gate for one listener of `principal` (bound to its virtual server). */
  open(principal: Principal): NotificationGate {
    if (!ViewResolver.restricted(principal)) return { prime: async () => undefined, admit: async (n) => !n.marked };
    const seen = new Map<ListFamily, string>();
    const fingerprint = async (family: ListFamily): Promise<string> => {
      const [view, surface] = await Promise.all([this.views.viewOf(principal), this.surface(principal.tenantId, principal.toolsets)]);
      return fingerprintOf(family, view, surface);
    };
    return {
      prime: async () => {
        for (const family of ['tools', 'prompts', 'resources'] as const) {
          const fp = await fingerprint(family).catch(() => undefined);
          if (fp !== undefined) seen.set(family, fp);
        }
      },
      admit: async (n) => {
        if (n.family === undefined) {
          const view = await this.views.viewOf(principal);
          return n.uri !== undefined && (!view || STORED_RESULT.test(n.uri) || view.resource(n.uri));
        }
        const family = n.family;
        try {
          let now = await fingerprint(family);
          if (now === seen.get(family)) {
            await new Promise((r) => setTimeout(r, this.recheckMs));
            now = await fingerprint(family);
            if (now === seen.get(family)) return false;
          }
          seen.set(family, now);
          return true;
        } catch {
          return true;
        }
      },
    };
  }
}

/** What `view` shows of one family of `surface`, as a comparable string. */
function fingerprintOf(family: ListFamily, view: View | undefined, surface: TenantSurface): string {
  const shown = (ok: (s: string) => boolean, items: readonly string[]) => items.filter((i) => !view || ok(i)).sort();
  if (family === 'tools') {
    const tools = surface.tools.flatMap((t) => {
      const e = view ? view.tool(t.name) : { name: t.name };
      return e ? [`${e.name}\u0000${e.description ?? t.description ?? ''}`] : [];
    });
    return JSON.stringify(tools.sort());
  }
  if (family === 'prompts') return JSON.stringify(shown((p) => view!.prompt(p), surface.prompts));
  return JSON.stringify([shown((u) => view!.resource(u), surface.resources), shown((u) => view!.template(u), surface.templates)]);
}
