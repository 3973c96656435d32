/**
 * Transport security of the zone: minimum TLS version, TLS 1.3, HTTPS only (HTTP is redirected), Full
 * (strict) TLS to the origins, and HSTS. Each is one `ZoneSetting` (provider v6 has no settings-override
 * resource). Leaves out: certificates (Cloudflare's edge certificate covers the zone; origin certificates
 * belong to the regional ingress).
 */
import * as cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';

export interface ZoneTlsArgs {
  /** Cloudflare zone of the MCP hostname. */
  readonly zoneId: pulumi.Input<string>;
  /** Minimum TLS version clients may use. @defaultValue "1.2" */
  readonly minTlsVersion?: '1.2' | '1.3';
  /** HSTS header Cloudflare adds to every HTTPS response. */
  readonly hsts: {
    /** Seconds browsers remember HTTPS-only. */
    readonly maxAgeSeconds: number;
    readonly includeSubdomains: boolean;
    readonly preload: boolean;
  };
}

/** TLS minimum, HTTPS only, strict origin TLS and HSTS of the zone (`unified-mcp:global:ZoneTls`). */
export class ZoneTls extends pulumi.ComponentResource {
  /** Setting id → configured value, for the stack outputs and the runbook. */
  readonly settings: Record<string, unknown>;

  constructor(name: string, args: ZoneTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:global:ZoneTls', name, {}, opts);
    if (args.hsts.preload && (args.hsts.maxAgeSeconds < 31_536_000 || !args.hsts.includeSubdomains)) {
      throw new pulumi.ResourceError('ZoneTls: HSTS preload needs maxAgeSeconds >= 31536000 and includeSubdomains', this);
    }
    this.settings = {
      min_tls_version: args.minTlsVersion ?? '1.2',
      tls_1_3: 'on',
      always_use_https: 'on',
      // Full (strict): Cloudflare verifies the origin certificate; the ingress serves one for the MCP hostname.
      ssl: 'strict',
      // Nested keys inside `value` are sent as-is, so they use the API's snake_case (pulumi-cloudflare#1579).
      security_header: {
        strict_transport_security: {
          enabled: true,
          max_age: args.hsts.maxAgeSeconds,
          include_subdomains: args.hsts.includeSubdomains,
          preload: args.hsts.preload,
          nosniff: true,
        },
      },
    };
    for (const [settingId, value] of Object.entries(this.settings)) {
      new cloudflare.ZoneSetting(`${name}-${settingId.replace(/_/g, '-')}`, { zoneId: args.zoneId, settingId, value }, { parent: this });
    }
    this.registerOutputs({ settings: this.settings });
  }
}
