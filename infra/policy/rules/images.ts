/**
 * Container images come from registries that exist and are pinned. A short name (`bitnami/kubectl:1.33`)
 * depends on the node's default registry, a tag like `latest` changes under a running Deployment, and a
 * retired registry or repository (k8s.gcr.io, Bitnami's versioned free images) leaves pods in
 * ImagePullBackOff: none of that is visible to `pulumi up`, which only sees the manifest accepted.
 */
import type { ResourceRule } from '../types.js';
import { label, workloadContainers } from '../util.js';

/** Registries images may come from (exact hosts), plus private ECR in any region and partition. */
export const ALLOWED_REGISTRIES = ['registry.k8s.io', 'public.ecr.aws', 'ghcr.io', 'quay.io', 'docker.io', 'mcr.microsoft.com', 'gcr.io'] as const;
const ECR = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** Registries and repositories that no longer serve versioned images, with the reason. */
export const RETIRED_SOURCES: readonly { prefix: string; why: string }[] = [
  { prefix: 'k8s.gcr.io/', why: 'frozen since April 2023; use registry.k8s.io' },
  {
    prefix: 'docker.io/bitnami/',
    why: "Bitnami stopped publishing versioned free images in 2025; use the upstream project's image (e.g. registry.k8s.io/kubectl)",
  },
];

/** `ghcr.io/a/b:1.0@sha256:…` → its registry, repository, tag and digest (Docker reference grammar). */
export function parseImage(ref: string): { registry?: string; repository: string; tag?: string; digest?: string } {
  const [nameTag, digest] = ref.split('@', 2) as [string, string | undefined];
  const slash = nameTag.indexOf('/');
  const first = slash >= 0 ? nameTag.slice(0, slash) : '';
  // The first component is a registry host only when it has a dot or a port, or is localhost.
  const registry = first && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
  const rest = registry ? nameTag.slice(slash + 1) : nameTag;
  const colon = rest.lastIndexOf(':');
  const repository = colon > rest.lastIndexOf('/') && colon >= 0 ? rest.slice(0, colon) : rest;
  const tag = colon > rest.lastIndexOf('/') && colon >= 0 ? rest.slice(colon + 1) : undefined;
  return { ...(registry ? { registry } : {}), repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** What is wrong with one image reference, or undefined. */
export function imageProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image.trim() === '') return `expected an image reference, found ${JSON.stringify(image ?? null)}`;
  const { registry, repository, tag, digest } = parseImage(image);
  if (!registry) return `expected a fully qualified reference (<registry>/<repository>:<tag>), found "${image}" (resolved against the node's default registry)`;
  const full = `${registry}/${repository}`;
  const retired = RETIRED_SOURCES.find(
    (r) => `${full}/`.startsWith(r.prefix) || (registry === 'registry-1.docker.io' && `docker.io/${repository}/`.startsWith(r.prefix)),
  );
  if (retired) return `expected an image from a registry that still serves it, found "${image}" (${retired.why})`;
  if (!(ALLOWED_REGISTRIES as readonly string[]).includes(registry) && !ECR.test(registry)) {
    return `expected a registry in ${[...ALLOWED_REGISTRIES, '<account>.dkr.ecr.<region>.amazonaws.com'].join(', ')}, found "${registry}" in "${image}"`;
  }
  if (digest) return /^sha256:[0-9a-f]{64}$/.test(digest) ? undefined : `expected a sha256 digest, found "@${digest}" in "${image}"`;
  if (!tag || tag === 'latest') return `expected a pinned tag or digest, found ${tag ? '"latest"' : 'no tag'} in "${image}"`;
  return undefined;
}

/** Every container of a Kubernetes workload runs a fully qualified, pinned image from an allowed registry. */
export const containerImageProvenance: ResourceRule = {
  kind: 'resource',
  name: 'container-image-provenance',
  description:
    'Every container image of a Kubernetes workload is fully qualified, from an allowlisted registry that still serves it, and pinned (a tag other than latest, or a digest).',
  level: 'mandatory',
  check(r) {
    return (workloadContainers(r) ?? []).flatMap((c) => {
      const problem = imageProblem(c?.image);
      return problem ? [`${label(r)}: container "${c?.name ?? '?'}" image: ${problem}.`] : [];
    });
  },
};
