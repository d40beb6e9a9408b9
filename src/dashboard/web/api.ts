/** The dashboard's calls to /ui/api: JSON in and out, errors as Error(message). */
export type { RunRow, RunsPage } from '../wire';
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const r = await fetch('/ui/api/' + path, {
    method: init?.method ?? 'GET',
    headers: init?.body !== undefined ? { 'content-type': 'application/json', 'x-carprice-ui': '1' } : {},
    body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
    credentials: 'same-origin',
  });
  const text = await r.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text.slice(0, 300) };
  }
  if (!r.ok) {
    const b = body as { message?: string; problems?: Array<{ field: string; reason: string }> } | null;
    throw new ApiError(b?.message ?? `${r.status} ${r.statusText}`, r.status, body);
  }
  return body as T;
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? '?' + s : '';
}

export interface Session {
  user: string | null;
  canWrite: boolean;
  writeNote: string | null;
  host: string;
  features: {
    pipeline: boolean;
    governance: boolean;
    versionPredictions: boolean;
    predict: boolean;
    monitoring: boolean;
  };
  predictSource: string | null;
}

export interface Experiment {
  id: string;
  name: string;
  stage: string;
  artifactLocation: string;
  created: number;
  updated: number;
  tags: Record<string, string>;
}
