/** Cost allocation and ownership tags on every taggable AWS resource. */
import type { ResourceRule } from '../types.js';
import { effectiveTags, label } from '../util.js';
import { TAGGABLE_AWS_TYPES } from '../taggable-types.js';

/** Tag keys every taggable AWS resource carries (own tags or the provider's `defaultTags`); `environment` counts as `env`. */
export const REQUIRED_TAGS = ['env', 'region', 'owner', 'cost-center'] as const;

/** Taggable AWS resources carry env, region, owner and cost-center, directly or via provider default tags. */
export const requiredTags: ResourceRule = {
  kind: 'resource',
  name: 'required-tags',
  description: `Taggable AWS resources carry the tags ${REQUIRED_TAGS.join(', ')} (own tags or provider defaultTags).`,
  level: 'mandatory',
  check(r, ctx) {
    if (!TAGGABLE_AWS_TYPES.has(r.type)) return [];
    const tags = effectiveTags(r.props, ctx.providerProps);
    const value = (k: string) => tags[k] ?? (k === 'env' ? tags['environment'] : undefined);
    const missing = REQUIRED_TAGS.filter((k) => typeof value(k) !== 'string' || (value(k) as string).trim() === '');
    if (missing.length === 0) return [];
    const present = Object.keys(tags).sort();
    return [
      `${label(r)}: tags: expected ${REQUIRED_TAGS.join(', ')} (non-empty), missing ${missing.join(', ')}; found ${present.length ? present.join(', ') : 'no tags'}.`,
    ];
  },
};
