/** oidc-provider ships no type declarations; the tests use a small part of it (support/oidc-as.ts). */
declare module 'oidc-provider' {
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    proxy: boolean;
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
    on(event: string, listener: (...args: any[]) => void): this;
    registerGrantType(name: string, handler: (ctx: any) => Promise<void>, params?: string[]): void;
  }
}
