/**
 * A real HTTP server on 127.0.0.1 for tests that read sources over http(s): the handler
 * decides what each path sends; `base` is its http://127.0.0.1:PORT.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpFixture {
  base: string;
  close(): Promise<void>;
}

export async function startHttpFixture(handler: RequestListener): Promise<HttpFixture> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
