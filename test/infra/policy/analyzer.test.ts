/**
 * Smoke test of the real pack entry (infra/policy/index.ts) through the analyzer gRPC protocol the
 * Pulumi CLI speaks: start the pack as the CLI would, read its port, ask for its policies and analyze
 * resources. No CLI needed; loopback only.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import analyzerGrpc from '@pulumi/pulumi/proto/analyzer_grpc_pb.js';
import analyzerPb from '@pulumi/pulumi/proto/analyzer_pb.js';
import structPb from 'google-protobuf/google/protobuf/struct_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import { ALL_RULES } from '../../../infra/policy/rules/index.js';

const UNKNOWN_BOOL = '1c4a061d-8072-4f0a-a4cb-0ff528b18fe7';

function call<Req, Res>(client: any, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => client[method](req, (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))));
}

function analyzeRequest(type: string, name: string, props: Record<string, unknown>) {
  const req = new analyzerPb.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(`urn:pulumi:prod::unified-mcp::${type}::${name}`);
  req.setProperties(structPb.Struct.fromJavaScript(props as Record<string, any>));
  req.setOptions(new analyzerPb.AnalyzerResourceOptions());
  return req;
}

describe('policy pack under the analyzer protocol', function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let client: any;

  before(async () => {
    child = spawn(join('node_modules', '.bin', 'tsx'), ['infra/policy/index.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      let errText = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim().split('\n')[0]!);
      });
      child.stderr!.on('data', (d: Buffer) => {
        errText += d;
      });
      child.on('exit', (code) => reject(new Error(`policy pack exited with ${code}: ${errText}`)));
    });
    assert.match(port, /^\d+$/);
    client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    child?.kill();
  });

  it('announces every rule with its enforcement level', async () => {
    const info: any = await call(client, 'getAnalyzerInfo', new emptyPb.Empty());
    assert.equal(info.getName(), 'unified-mcp');
    const levels = info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]);
    const enumOf = (l: string) => (l === 'mandatory' ? analyzerPb.EnforcementLevel.MANDATORY : analyzerPb.EnforcementLevel.ADVISORY);
    assert.deepEqual(
      levels,
      ALL_RULES.map((r) => [r.name, enumOf(r.level)]),
    );
  });

  it('reports a mandatory violation with the rule message, and only an advisory note for values unknown in preview', async () => {
    const bad: any = await call(client, 'analyze', analyzeRequest('aws:rds/cluster:Cluster', 'db', { storageEncrypted: false }));
    const enc = bad.getDiagnosticsList().filter((d: any) => d.getPolicyname() === 'encryption-at-rest');
    assert.equal(enc.length, 1);
    assert.match(enc[0].getMessage(), /aws:rds\/cluster:Cluster "db": storageEncrypted: expected true, found false/);
    assert.equal(enc[0].getEnforcementlevel(), analyzerPb.EnforcementLevel.MANDATORY);
    // Unknown in preview: the engine turns the rule's UnknownValueError into an advisory "can't run" note.
    const unknown: any = await call(client, 'analyze', analyzeRequest('aws:rds/cluster:Cluster', 'db', { storageEncrypted: UNKNOWN_BOOL }));
    const skipped = unknown.getDiagnosticsList().filter((d: any) => d.getPolicyname() === 'encryption-at-rest');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].getEnforcementlevel(), analyzerPb.EnforcementLevel.ADVISORY);
    assert.match(skipped[0].getMessage(), /can't run policy 'encryption-at-rest'.*during preview/);
  });
});
