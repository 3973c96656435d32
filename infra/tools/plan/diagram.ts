/**
 * Writes the component tree of a mocked stack as a self-contained HTML page: an SVG overview of the
 * component hierarchy, then each component as a box holding its children (nested components as nested
 * boxes, resources as cards coloured by provider).
 * No scripts, no external assets: open it in any browser.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TreeNode } from './tree.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function providerClass(type: string): string {
  if (type.startsWith('aws:')) return 'aws';
  if (type.startsWith('kubernetes:')) return 'k8s';
  if (type.startsWith('cloudflare:')) return 'cf';
  if (type.startsWith('pulumi:')) return 'pulumi';
  return 'other';
}

/** Short type: `aws:rds/cluster:Cluster` → `rds Cluster`. */
export function shortType(type: string): string {
  const [pkg, mod, kind] = type.split(':');
  if (!kind) return type;
  return `${pkg === 'unified-mcp' ? '' : `${pkg}/`}${(mod ?? '').split('/')[0]} ${kind}`;
}

function render(node: TreeNode): string {
  const r = node.resource;
  if (node.children.length === 0) {
    return `<div class="res ${providerClass(r.type)}" title="${esc(r.type)}"><b>${esc(r.name)}</b><i>${esc(shortType(r.type))}</i></div>`;
  }
  const kids = node.children.map(render).join('');
  return `<section class="comp ${providerClass(r.type)}"><h3>${esc(r.name)} <i>${esc(r.type)}</i> <small>${node.children.length} children</small></h3><div class="kids">${kids}</div></section>`;
}

const W = 190;
const H = 46;
const GAP_X = 16;
const GAP_Y = 46;

/** Component-only view of a tree node: its component children and the number of resources it holds directly. */
function componentChildren(node: TreeNode): TreeNode[] {
  return node.children.filter((c) => c.resource.custom === false);
}

/**
 * An SVG overview of the component hierarchy (stack and components only, resources counted): a tidy
 * top-down tree, leaves spread left to right, each parent centred over its children.
 */
export function componentTreeSvg(roots: readonly TreeNode[]): string {
  const boxes: string[] = [];
  const lines: string[] = [];
  let nextLeaf = 0;
  let maxDepth = 0;
  const place = (node: TreeNode, depth: number): number => {
    maxDepth = Math.max(maxDepth, depth);
    const kids = componentChildren(node);
    const xs = kids.map((k) => place(k, depth + 1));
    const x = xs.length ? (xs[0]! + xs[xs.length - 1]!) / 2 : nextLeaf++ * (W + GAP_X);
    const y = depth * (H + GAP_Y);
    for (const kx of xs) lines.push(`<line x1="${x + W / 2}" y1="${y + H}" x2="${kx + W / 2}" y2="${y + H + GAP_Y}"/>`);
    const own = node.children.length - kids.length;
    const r = node.resource;
    boxes.push(
      `<g class="${providerClass(r.type)}"><rect x="${x}" y="${y}" width="${W}" height="${H}" rx="6"/>` +
        `<text x="${x + 8}" y="${y + 18}" class="n">${esc(r.name.length > 26 ? `${r.name.slice(0, 25)}…` : r.name)}</text>` +
        `<text x="${x + 8}" y="${y + 36}">${esc(shortType(r.type))}, ${own} resources</text><title>${esc(r.type)}</title></g>`,
    );
    return x;
  };
  for (const root of roots.filter((r) => r.resource.custom === false)) place(root, 0);
  const width = Math.max(1, nextLeaf) * (W + GAP_X);
  const height = (maxDepth + 1) * (H + GAP_Y);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="component tree">` +
    `<style>line{stroke:#57606a;stroke-width:1.5}rect{stroke:#57606a;fill:#f6f8fa}.pulumi rect{fill:#e8e0ff}text{font:11px system-ui,sans-serif;fill:#444}.n{font-weight:bold;fill:#1b1f24}</style>` +
    `${lines.join('')}${boxes.join('')}</svg>`
  );
}

/** The HTML page for a stack's tree. */
export function diagramHtml(stack: string, roots: readonly TreeNode[], resourceCount: number): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(stack)}: component tree</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#1b1f24}
h1{font-size:18px} h2{font-size:15px;margin-top:18px} .legend span{display:inline-block;padding:2px 8px;margin-right:6px;border-radius:4px}
.comp{border:2px solid #57606a;border-radius:8px;margin:8px 0;padding:6px 8px;background:#f6f8fa}
.comp .comp{background:#fff}
.comp h3{margin:0 0 6px;font-size:14px} .comp h3 i,.comp h3 small{font-weight:normal;color:#57606a}
.kids{display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start}
.kids>.comp{flex-basis:100%}
.res{border-radius:6px;padding:4px 8px;display:flex;flex-direction:column;min-width:120px}
.res i{font-size:11px;color:#444}
.aws{background:#ffe8c2}.k8s{background:#d6e6ff}.cf{background:#ffd8cc}.pulumi{background:#e8e0ff}.other{background:#e6e6e6}
.comp.aws,.comp.k8s,.comp.cf,.comp.other{background:#fff}
</style></head><body>
<h1>Stack ${esc(stack)}: ${resourceCount} resources</h1>
<p class="legend"><span class="aws">AWS</span><span class="k8s">Kubernetes</span><span class="cf">Cloudflare</span><span class="pulumi">Pulumi provider / stack</span>
Boxes are components (a Pulumi ComponentResource); cards inside are the resources it creates.</p>
<h2>Component hierarchy</h2>
<div style="overflow-x:auto">${componentTreeSvg(roots)}</div>
<h2>Components and their resources</h2>
${roots.map(render).join('\n')}
</body></html>
`;
}

/** Writes the page to `file` (creating its folder) and returns the path. */
export function writeDiagram(file: string, stack: string, roots: readonly TreeNode[], resourceCount: number): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, diagramHtml(stack, roots, resourceCount));
  return file;
}
