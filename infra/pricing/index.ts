/**
 * The committed AWS price table (infra/pricing/prices-<date>.json): list prices per region with their
 * date, source and how the spot / commitment columns were derived. Loaded and validated here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const usd = z.number().nonnegative();
const regionPrices = z.object({
  ec2: z.record(z.string(), z.object({ vcpu: z.number(), memoryGiB: z.number(), onDemand: usd, spot: usd, savingsPlan: usd })),
  auroraPostgres: z.record(z.string(), z.object({ vcpu: z.number(), onDemand: usd, reserved: usd })),
  elasticache: z.record(z.string(), z.object({ onDemand: usd, reserved: usd })),
  auroraStorageGbMonth: usd,
  rdsProxyVcpuHour: usd,
  natGatewayHour: usd,
  natGatewayGb: usd,
  eksControlPlaneHour: usd,
  s3StandardGbMonth: usd,
  albHour: usd,
  albLcuHour: usd,
  vpcInterfaceEndpointAzHour: usd,
  kmsKeyMonth: usd,
});

const priceTableSchema = z.object({
  currency: z.literal('USD'),
  hoursPerMonth: z.number().positive(),
  compiledOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  pricesAsOf: z.string().min(1),
  source: z.string().min(1),
  method: z.record(z.string(), z.string()),
  regions: z.record(z.string(), regionPrices),
});

/** A validated price table. */
export type PriceTable = z.output<typeof priceTableSchema>;
/** Prices of one region. */
export type RegionPrices = z.output<typeof regionPrices>;

const here = dirname(fileURLToPath(import.meta.url));

/** Path of the newest `prices-YYYY-MM-DD.json` in infra/pricing. */
export function latestPriceFile(dir: string = here): string {
  const files = readdirSync(dir)
    .filter((f) => /^prices-\d{4}-\d{2}-\d{2}\.json$/.test(f))
    .sort();
  const last = files.at(-1);
  if (!last) throw new Error(`no prices-YYYY-MM-DD.json price table in ${dir}`);
  return join(dir, last);
}

/** Loads and validates a price table; throws naming the file and the bad key. */
export function loadPriceTable(file: string = latestPriceFile()): PriceTable {
  const parsed = priceTableSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid price table ${file}: ${issues}`);
  }
  return parsed.data;
}

/** The prices of `region`; throws listing the regions the table covers. */
export function pricesFor(table: PriceTable, region: string): RegionPrices {
  const prices = table.regions[region];
  if (!prices) throw new Error(`the price table has no prices for region "${region}" (it covers ${Object.keys(table.regions).join(', ')})`);
  return prices;
}
